// SPDX-License-Identifier: GPL-2.0
/*
 * nowait-read DEV COUNT: issue COUNT 4 KiB O_DIRECT reads with RWF_NOWAIT
 * (preadv2), and print how many succeeded and how many failed with EAGAIN.
 * Any other error is reported and makes the exit status 1.  fio 3.33 has no
 * RWF_NOWAIT option, hence this tool (tests/sched: REQ_NOWAIT must get
 * EAGAIN rather than wait).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long i, count, ok = 0, again = 0;
	struct iovec iov;
	void *buf;
	int fd;

	if (argc != 3 || (count = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: nowait-read DEV COUNT\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "nowait-read: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (posix_memalign(&buf, 4096, 4096))
		return 1;
	iov.iov_base = buf;
	iov.iov_len = 4096;
	for (i = 0; i < count; i++) {
		ssize_t r = preadv2(fd, &iov, 1, (i % 1024) * 4096, RWF_NOWAIT);

		if (r == 4096) {
			ok++;
		} else if (r < 0 && errno == EAGAIN) {
			again++;
		} else {
			fprintf(stderr, "nowait-read: read %ld: %s\n", i,
				r < 0 ? strerror(errno) : "short read");
			return 1;
		}
	}
	printf("ok=%ld eagain=%ld\n", ok, again);
	return 0;
}
