/*
 * harness_conf.c - the configuration files of a case: baxverify.conf
 * from a struct conf, and the API key file.
 */

#include "harness.h"
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned write_conf(const struct conf *c)
{
	struct sbuf sb = { NULL, 0, 0 };
	char url[4096];
	unsigned extra_line;

	snprintf(url, sizeof(url), "%s/v1", mock_url);
	sb_printf(&sb, "# written by tests/pam/harness.c\n");
	sb_printf(&sb, "provider = %s;\n",
		  c->provider != NULL ? c->provider : "\"baxverify\"");
	sb_printf(&sb, "baxverify = {\n");
	sb_printf(&sb, "  api_url = \"%s\";\n",
		  c->api_url != NULL ? c->api_url : url);
	sb_printf(&sb, "  project_id = \"%s\";\n", PROJECT_ID);
	if (c->key == KEY_INLINE)
		sb_printf(&sb, "  api_key = \"%s\";\n", API_KEY);
	else if (c->key == KEY_IN_FILE)
		sb_printf(&sb, "  api_key_file = \"%s\";\n", key_path);
	sb_printf(&sb, "  purpose = \"LOGIN\";\n");
	if (c->validate != NULL)
		sb_printf(&sb, "  validate_token = %s;\n", c->validate);
	sb_printf(&sb, "};\n");
	if (c->tryvox != NULL) {
		sb_printf(&sb, "tryvox = {\n");
		sb_printf(&sb, "  api_url = \"%s\";\n",
			  c->tryvox_url != NULL ? c->tryvox_url : mock_url);
		sb_printf(&sb, "  api_key = \"%s\";\n",
			  c->tryvox_key != NULL ? c->tryvox_key : TRYVOX_KEY);
		sb_printf(&sb, "  tenant_id = \"%s\";\n",
			  c->tenant_id != NULL ? c->tenant_id : TENANT_ID);
		sb_printf(&sb, "%s%s};\n", c->tryvox,
			  c->tryvox[0] != '\0' ? "\n" : "");
	}
	if (c->mudbase != NULL) {
		sb_printf(&sb, "mudbase = {\n");
		sb_printf(&sb, "  api_url = \"%s\";\n",
			  c->mudbase_url != NULL ? c->mudbase_url : mock_url);
		sb_printf(&sb, "  project_id = \"%s\";\n",
			  c->mudbase_project != NULL ? c->mudbase_project
						     : MUDBASE_PROJECT);
		sb_printf(&sb, "%s%s};\n", c->mudbase,
			  c->mudbase[0] != '\0' ? "\n" : "");
	}
	if (c->sections != NULL)
		sb_printf(&sb, "%s\n", c->sections);
	sb_printf(&sb, "http = {\n");
	if (!c->system_ca)
		sb_printf(&sb, "  ca_file = \"%s\";\n", ca_file);
	sb_printf(&sb, "  connect_timeout = %d;\n  timeout = %d;\n};\n",
		  c->connect_timeout > 0 ? c->connect_timeout : 5,
		  c->timeout > 0 ? c->timeout : 5);
	sb_printf(&sb, "phones = { file = \"%s\"; gecos = false; };\n",
		  c->phones != NULL ? c->phones : phones_path);
	/* Never the system's store: the module would write to it. */
	sb_printf(&sb, "store = { dir = \"%s\"; };\n", store_path);
	/* The helper of this build tree, not the installed one. */
	if (c->helper != NULL)
		sb_printf(&sb, "helper = \"%s\";\n", c->helper);
	else if (getenv("BV_HELPER") != NULL)
		sb_printf(&sb, "helper = \"%s\";\n", getenv("BV_HELPER"));
	if (c->limits != NULL)
		sb_printf(&sb, "limits = { %s };\n", c->limits);
	if (c->channels != NULL)
		sb_printf(&sb, "channels = %s;\n", c->channels);
	if (c->failmode != NULL)
		sb_printf(&sb, "failmode = \"%s\";\n", c->failmode);
	if (c->max_tries > 0)
		sb_printf(&sb, "max_tries = %d;\n", c->max_tries);
	if (c->max_sends > 0)
		sb_printf(&sb, "max_sends = %d;\n", c->max_sends);
	if (c->groups != NULL)
		sb_printf(&sb, "groups = %s;\n", c->groups);
	extra_line = count_lines(sb.s) + 1;
	if (c->extra != NULL)
		sb_printf(&sb, "%s\n", c->extra);

	write_file(conf_path, sb.s, c->mode != 0 ? c->mode : 0600);
	free(sb.s);

	(void)unlink(key_path);
	if (c->key == KEY_IN_FILE)
		write_file(key_path, API_KEY "\n",
			   c->key_mode != 0 ? c->key_mode : 0600);
	return extra_line;
}

void write_default_conf(void)
{
	const struct conf c = { 0 };

	write_conf(&c);
}
