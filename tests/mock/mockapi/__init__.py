"""The mock BaxVerify, Tryvox and Mudbase APIs of the pam_baxverify tests
(see ../mock_baxverify.py): one module per API, common.py and server.py
shared."""
