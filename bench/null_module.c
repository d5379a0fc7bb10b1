/*
 * null_module.c - the floor of a skipped user: a PAM module that links
 * libconfig, as pam_baxverify does, and does nothing (PAM_IGNORE).
 *
 * bench_auth's row S0 runs it where row S runs the module: what remains
 * between them is the module's own work (its size, reading and parsing
 * the configuration, the group check); what lies between S0 and A is
 * what loading any module and libconfig costs on the machine.  Built by
 * `make bench`, never installed.
 */
#include "config.h"

#include <libconfig.h>
#include <security/pam_modules.h>

/* Referenced, so that the link keeps libconfig as a dependency. */
void (*const null_module_config_init)(config_t *) = config_init;

int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}

int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}
