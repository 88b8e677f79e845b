#!/bin/sh
# SPDX-License-Identifier: MIT
# check-version.sh VERSION SOURCE_ROOT - meson.build's version (VERSION, the
# one source) is the version of debian/changelog's latest entry and of
# NEWS.md's latest release. Registered with meson (suite 'docs').
set -u
version=$1 root=$2
rc=0

# "xnb (0.1.0) unstable; urgency=medium": a native package, so no revision.
deb=$(sed -n '1s/^xnb (\([^)]*\)).*/\1/p' "$root/debian/changelog")
if [ "$deb" != "$version" ]; then
	echo "debian/changelog's latest entry is '$deb', meson.build says '$version':" \
		"add an entry (dch -v $version) or fix meson.build"
	rc=1
fi
# "## 0.1.0 (2025-...)": the first release heading.
news=$(sed -n 's/^## \([0-9][^ ]*\).*/\1/p' "$root/NEWS.md" | head -n 1)
if [ "$news" != "$version" ]; then
	echo "NEWS.md's latest release is '$news', meson.build says '$version'"
	rc=1
fi
[ $rc = 0 ] && echo "version $version: meson.build, debian/changelog and NEWS.md agree"
exit $rc
