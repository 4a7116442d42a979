# Sourced by tools/test-all.sh: the address-space selftests (tools/testing/selftests/vas/
# of the series) on the same x86_64 kernel as the syslet suite.
step vm-x86_64-vas pass vm x86_64 vas
step vm-x86_64-vas-compat pass vm x86_64 vas-compat
