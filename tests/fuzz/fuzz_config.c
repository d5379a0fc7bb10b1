/*
 * fuzz_config.c - the config loader: libconfig text -> validated config.
 *
 * Input: FUZZ_ALLOC_BYTES choosing an allocation to fail (fuzz.h), then
 * the text of baxverify.conf.  The text goes to one file of the private
 * directory (mode 0600, rewritten for each input) and through
 * cfg_load_file, the loader the CLI uses (it reads by absolute path);
 * then cfg_free, so LeakSanitizer sees every path out of the loader.
 *
 * Checked: the result is OK, CONFIG or NOMEM; NOMEM only when an
 * allocation was made to fail, and never OK then; a config that loads
 * has every field the module relies on set and in range.
 *
 * Linked with -Wl,--wrap=open as well: a fuzzed api_key_file may name any
 * path, and this process may be root.  Opening a device or a FIFO can
 * block or have effects (think /dev/watchdog), so __wrap_open lets through
 * only the private directory, and maps paths under "/fuzz/" into it:
 * the seeds use api_key_file = "/fuzz/key" and friends, created by
 * LLVMFuzzerInitialize, to reach the key-file code.  Anything else does
 * not exist, as far as the loader can tell.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "../../src/core/conf.h"
#include "../../src/core/text.h"
#include "../../src/providers/baxverify.h"
#include "../../src/providers/local.h"
#include "../../src/providers/mudbase.h"
#include "../../src/providers/provider.h"
#include "../../src/providers/tryvox.h"

/* The prefix of a seed's path that stands for the private directory. */
#define FUZZ_PREFIX "/fuzz/"
/* conf.c's bound on the prompt. */
#define PROMPT_MAX 200
/* What the good key file holds. */
#define KEY_TEXT "fuzz-api-key\n"

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);

int
__wrap_open(const char *path, int flags, ...)
{
	const char *dir = fuzz_dir();
	size_t dlen = strlen(dir);
	char mapped[4096];
	mode_t mode = 0;
	va_list ap;
	int n;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, unsigned);
		va_end(ap);
	}
	if (strncmp(path, FUZZ_PREFIX, sizeof(FUZZ_PREFIX) - 1) == 0) {
		n = snprintf(mapped, sizeof(mapped), "%s/%s", dir,
			     path + sizeof(FUZZ_PREFIX) - 1);
		if (n < 0 || (size_t)n >= sizeof(mapped)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return __real_open(mapped, flags, mode);
	}
	if (strncmp(path, dir, dlen) == 0 && path[dlen] == '/')
		return __real_open(path, flags, mode);
	errno = ENOENT;
	return -1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[4096];

	(void)argc;
	(void)argv;
	fuzz_alloc_init();
	/* Key files a seed may name as /fuzz/NAME: good, open, empty. */
	fuzz_write_file("key", KEY_TEXT, sizeof(KEY_TEXT) - 1, 0600, path,
			sizeof(path));
	fuzz_write_file("key-open", KEY_TEXT, sizeof(KEY_TEXT) - 1, 0644, path,
			sizeof(path));
	fuzz_write_file("key-empty", " \n", sizeof(" \n") - 1, 0600, path,
			sizeof(path));
	return 0;
}

static bool
in_range(long v, long min, long max)
{
	return v >= min && v <= max;
}

/* An API's base URL as every provider's checks leave it. */
static void
check_url(const char *name, const char *url)
{
	size_t n;

	if (url == NULL ||
	    strncmp(url, "https://", sizeof("https://") - 1) != 0)
		fuzz_fail("loaded: %s.api_url is not https", name);
	n = strlen(url);
	if (n == 0 || url[n - 1] == '/')
		fuzz_fail("loaded: %s.api_url keeps a trailing slash", name);
}

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* One provider group of a loaded config, for a listed provider. */
static void
check_group(const struct bv_config *cfg, const char *name)
{
	const struct bv_provider_info *p = provider_info_find(name);
	const void *conf = cfg_provider_conf(cfg, p);
	const struct baxverify_config *bax = conf;
	const struct tryvox_config *tvx = conf;
	const struct mudbase_config *mud = conf;
	const struct local_config *loc = conf;

	if (p == NULL || conf == NULL)
		fuzz_fail("loaded: no group for provider %s", name);
	if (!provider_has_channel(p, provider_default_channel(cfg, p)))
		fuzz_fail("loaded: %s's channel is not one it sends by", name);
	if (p == &local_info) {
		if (loc->delivery == NULL || loc->message == NULL)
			fuzz_fail("loaded: local without delivery/message");
	} else if (p == &baxverify_info) {
		check_url(name, bax->api_url);
		if (!set(bax->api_key) || bax->project_id == NULL)
			fuzz_fail("loaded: baxverify key/project_id");
	} else if (p == &tryvox_info) {
		check_url(name, tvx->api_url);
		if (!set(tvx->api_key) || tvx->tenant_id == NULL ||
		    !in_range(tvx->code_length, 4, 8))
			fuzz_fail("loaded: tryvox key/tenant_id/code_length");
	} else if (p == &mudbase_info) {
		check_url(name, mud->api_url);
		if (mud->project_id == NULL)
			fuzz_fail("loaded: mudbase has no project_id");
	}
}

/* Does a listed provider send by c? */
static bool
channel_served(const struct bv_config *cfg, enum bv_channel c)
{
	size_t i;

	for (i = 0; cfg->providers[i] != NULL; i++)
		if (provider_has_channel(provider_info_find(cfg->providers[i]),
					 c))
			return true;
	return false;
}

/* local.code_length, in range whether or not local is listed. */
static long
local_code_length(const struct bv_config *cfg)
{
	const struct local_config *loc = cfg_provider_conf(cfg, &local_info);

	return loc != NULL ? loc->code_length : -1;
}

/* Everything the module reads from a config that loaded. */
static void
check_loaded(const struct bv_config *cfg, const char *path)
{
	size_t i;

	if (cfg->path == NULL || strcmp(cfg->path, path) != 0)
		fuzz_fail("loaded: path is not the file's");
	if (cfg->providers == NULL || cfg->providers[0] == NULL)
		fuzz_fail("loaded: no provider");
	for (i = 0; cfg->providers[i] != NULL; i++) {
		if (provider_find(cfg->providers[i]) == NULL)
			fuzz_fail("loaded: unknown provider %s",
				  cfg->providers[i]);
		check_group(cfg, cfg->providers[i]);
	}
	if (cfg->nchannels > BV_CHANNEL_COUNT)
		fuzz_fail("loaded: a channel menu longer than the channels");
	for (i = 0; i < cfg->nchannels; i++)
		if (!channel_served(cfg, cfg->channels[i]))
			fuzz_fail("loaded: channel %s offered, not served",
				  channel_name(cfg->channels[i]));
	if (cfg->prompt == NULL || strlen(cfg->prompt) > PROMPT_MAX)
		fuzz_fail("loaded: prompt missing or too long");
	if (cfg->phones_file == NULL || cfg->phones_file[0] != '/' ||
	    cfg->store_dir == NULL || cfg->store_dir[0] != '/')
		fuzz_fail("loaded: phones.file/store.dir not absolute");
	if (!in_range(cfg->http.timeout, 1, 120) ||
	    !in_range(cfg->http.connect_timeout, 1, cfg->http.timeout))
		fuzz_fail("loaded: http timeouts out of range");
	if (!in_range(cfg->max_tries, 1, 10) ||
	    !in_range(cfg->max_sends, 1, 5) ||
	    !in_range(local_code_length(cfg), CODE_MIN_DIGITS,
		      CODE_MAX_DIGITS) ||
	    !in_range(cfg->remember, 0, 86400))
		fuzz_fail("loaded: a number out of range");
	if (cfg->failmode != BV_FAILMODE_SECURE &&
	    cfg->failmode != BV_FAILMODE_SAFE)
		fuzz_fail("loaded: failmode %d", (int)cfg->failmode);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bv_config cfg;
	struct bv_log log = {.debug = false};
	char path[4096];
	unsigned long failed;
	enum bv_result rc;

	if (size < FUZZ_ALLOC_BYTES)
		return 0;
	fuzz_write_file("baxverify.conf", data + FUZZ_ALLOC_BYTES,
			size - FUZZ_ALLOC_BYTES, 0600, path, sizeof(path));
	/* Every caller zeroes the struct first (cfg_load_file may return
	   before it does). */
	memset(&cfg, 0, sizeof(cfg));
	fuzz_alloc_arm(data);
	rc = cfg_load_file(&cfg, path, provider_catalog(), &log);
	fuzz_alloc_disarm();
	failed = fuzz_alloc_failures();
	if (rc != BV_OK && rc != BV_CONFIG && rc != BV_NOMEM)
		fuzz_fail("cfg_load_file returned %d", (int)rc);
	if (rc == BV_NOMEM && failed == 0)
		fuzz_fail("cfg_load_file: out of memory, yet nothing failed");
	if (rc == BV_OK && failed > 0)
		fuzz_fail("cfg_load_file: %lu allocations failed, yet OK",
			  failed);
	if (rc == BV_OK)
		check_loaded(&cfg, path);
	cfg_free(&cfg);
	return 0;
}
