#!/bin/sh
# write-conf.sh [--bare] [SETTING...] - the module's configuration on
# stdout: bv_conf_text of tests/mock/lib.sh (see there for the settings),
# for the C harness (tests/pam/harness_conf.c), which runs it through
# $BV_WRITE_CONF, so that the C tests and the shell ones share one writer.
set -eu
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/mock/lib.sh
. "$srcdir/tests/mock/lib.sh"
bv_conf_text "$@"
