/* The terminal under shmkit top (cli/term.h says why there is no library). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "term.h"

#define ALT_SCREEN_ON "\033[?1049h\033[?25l"	/* alternate screen, cursor hidden */
#define ALT_SCREEN_OFF "\033[?25h\033[?1049l"
#define HOME "\033[H"
#define ERASE_LINE "\033[K"
#define ERASE_BELOW "\033[J"

static struct termios saved;
static int have_saved, entered;

/* write(2) until done; EINTR is retried (a resize must not cut a frame) */
static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int term_enter(int keys)
{
	struct termios raw;

	if (keys) {
		if (tcgetattr(STDIN_FILENO, &saved) < 0)
			return -1;
		raw = saved;
		/* keys as they come, unechoed; ^C and ^Z still signal */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
			return -1;
		have_saved = 1;
	}
	entered = 1;
	return write_all(ALT_SCREEN_ON, strlen(ALT_SCREEN_ON));
}

void term_leave(void)
{
	if (entered) {
		entered = 0;
		(void)write_all(ALT_SCREEN_OFF, strlen(ALT_SCREEN_OFF));
	}
	if (have_saved) {
		have_saved = 0;
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	}
}

void term_size(size_t *cols, size_t *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

int term_draw(char *const *lines, size_t n)
{
	size_t cap = sizeof(HOME) + sizeof(ERASE_BELOW), len = 0;
	char *frame;
	int r;

	for (size_t k = 0; k < n; k++)
		cap += strlen(lines[k]) + sizeof(ERASE_LINE) + 2;
	if (!(frame = malloc(cap)))
		return -1;
	memcpy(frame, HOME, sizeof(HOME) - 1);
	len = sizeof(HOME) - 1;
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(lines[k]);

		memcpy(frame + len, lines[k], l);
		len += l;
		memcpy(frame + len, ERASE_LINE, sizeof(ERASE_LINE) - 1);
		len += sizeof(ERASE_LINE) - 1;
		/* no newline after the last: the screen must not scroll */
		if (k + 1 < n) {
			memcpy(frame + len, "\r\n", 2);
			len += 2;
		}
	}
	memcpy(frame + len, ERASE_BELOW, sizeof(ERASE_BELOW) - 1);
	len += sizeof(ERASE_BELOW) - 1;
	r = write_all(frame, len);
	free(frame);
	return r;
}
