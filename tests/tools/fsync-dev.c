// SPDX-License-Identifier: GPL-2.0
/* fsync-dev DEV: open a block device and fsync it (an empty flush). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: fsync-dev DEV\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fsync(fd)) {
		fprintf(stderr, "fsync-dev: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return close(fd) ? 1 : 0;
}
