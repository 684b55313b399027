# Appended to the debian/rules that stdeb generates for rosey-bot-native
# (packaging/build.sh): the same debhelper choices as debian/rules makes for
# the venv flavour, for the same reasons (see there).
include /usr/share/dpkg/pkg-info.mk

# The suite runs against both flavours in the project's own tests
# (tests/e2e), in booted containers; pybuild's in-tree run would need them.
export PYBUILD_DISABLE = test

# The exact Debian version (with its ~dev tilde) for /api/health: Python's
# version scheme cannot hold it (rosey_bot/version.py reads this file).
override_dh_auto_install:
	dh_auto_install
	# (pybuild installs under python3.X; dh_python3 moves it all to python3.)
	for pkg in debian/rosey-bot-native/usr/lib/python3*/dist-packages/rosey_bot; do \
		echo "$(DEB_VERSION)" > $$pkg/debian.version; done

# postinst and prerm own start, restart and stop (one owner); see debian/rules.
override_dh_installsystemd:
	dh_installsystemd --no-start --no-stop-on-upgrade

# The units' Documentation= points at these Markdown files by name.
override_dh_compress:
	dh_compress -X.md
