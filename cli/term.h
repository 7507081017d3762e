/*
 * A full-screen terminal for shmkit top, with nothing but termios and
 * the ANSI/VT100 sequences every terminal emulator (and tmux, screen,
 * the Linux console) understands: the alternate screen, cursor home,
 * erase to the end of line and of screen, hide and show the cursor. No
 * terminal library: these five sequences are all top needs, and the
 * command stays free of dependencies.
 */
#ifndef SHMKIT_CLI_TERM_H
#define SHMKIT_CLI_TERM_H

#include <stddef.h>

/*
 * Takes the terminal on stdout (and its keys on stdin, if keys): the
 * alternate screen, no cursor, keys one at a time without echo. Returns
 * 0, or -1 if the terminal refused (errno). term_leave gives it back as
 * it was; it is safe to call twice, and from a signal handler's path.
 */
int term_enter(int keys);
void term_leave(void);

/* The window's columns and rows (80x24 if it will not say). */
void term_size(size_t *cols, size_t *rows);

/*
 * Draws a whole frame: lines[0..n) from the top left, each erased to its
 * end, and the rest of the screen erased; one write.
 */
int term_draw(char *const *lines, size_t n);

#endif
