// SPDX-License-Identifier: GPL-2.0
/* /bin/true for the test VMs. */
int main(void)
{
	return 0;
}
