# count-requests.py PATH [KEY VALUE] < the mock's /_mock/requests
# How many API requests the mock got on PATH (e.g. /v1/auth/sms/send),
# optionally only those whose JSON body has KEY equal to VALUE (compared
# as JSON: true, "123456", ...).  Shared by lib.sh and caller.sh.
import json
import sys

path, want = sys.argv[1], sys.argv[2:]
n = 0
for r in json.load(sys.stdin)["requests"]:
    if r["path"] != path:
        continue
    b = r["body"] if isinstance(r["body"], dict) else {}
    if want and json.dumps(b.get(want[0])) != want[1]:
        continue
    n += 1
print(n)
