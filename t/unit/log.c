/*
 * log - the line formats: warnings tagged "warning: " whether they come
 * from log_warnx or a per-message log_msg(LOG_WARNING), the queue id
 * prefix, debug lines only when turned on, control characters masked
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "tap.h"

static int logfd = -1;

/* logged - run nothing; the text logged to stderr since the last call */
static void
logged(struct buf *out)
{
	char c[512];
	ssize_t n;
	off_t off = 0;

	buf_reset(out);
	while ((n = pread(logfd, c, sizeof(c), off)) > 0) {
		buf_append(out, c, (size_t)n);
		off += n;
	}
	if (ftruncate(logfd, 0) < 0 || lseek(logfd, 0, SEEK_SET) < 0)
		ok(0, "ftruncate");
}

int
main(void)
{
	char name[] = "/tmp/log-unit.XXXXXX";
	struct buf b = BUF_INIT;
	int saved;

	if ((logfd = mkstemp(name)) < 0)
		return 1;
	unlink(name);
	saved = dup(STDERR_FILENO);
	dup2(logfd, STDERR_FILENO);
	log_open("t", 0, LOG_MAIL, 1);

	log_warnx("plain %d", 1);
	logged(&b);
	ok(strstr(buf_str(&b), "]: warning: plain 1\n") != NULL,
	    "log_warnx: warning: tag");
	log_msg(LOG_WARNING, "QID1", "per message %d", 2);
	logged(&b);
	ok(strstr(buf_str(&b), "]: QID1: warning: per message 2\n") != NULL,
	    "log_msg at LOG_WARNING: the queue id, then the warning: tag");
	log_msg(LOG_INFO, "QID1", "info");
	logged(&b);
	ok(strstr(buf_str(&b), "]: QID1: info\n") != NULL &&
	    strstr(buf_str(&b), "warning") == NULL,
	    "log_msg at LOG_INFO: no tag");
	log_msg(LOG_WARNING, NULL, "no id");
	logged(&b);
	ok(strstr(buf_str(&b), "]: NOQUEUE: warning: no id\n") != NULL,
	    "no queue id: NOQUEUE");
	log_debug("hidden");
	logged(&b);
	ok(b.len == 0, "log_debug is silent by default");
	log_set_debug(1);
	log_debug("shown");
	logged(&b);
	ok(strstr(buf_str(&b), "]: shown\n") != NULL,
	    "log_set_debug(1) shows log_debug lines");
	log_set_debug(0);
	log_msg(LOG_INFO, "Q\n2", "a\rb");
	logged(&b);
	ok(strstr(buf_str(&b), "]: Q?2: a?b\n") != NULL,
	    "control characters are masked");

	dup2(saved, STDERR_FILENO);
	close(saved);
	buf_free(&b);
	return done_testing();
}
