// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Colour for people at a terminal: state names and TCP flags.  Off when the
 * output is not a terminal, with --no-color, when NO_COLOR is set to anything
 * non-empty (https://no-color.org), on TERM=dumb, and always for JSON.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws_user.h"

bool ws_color_wanted(int fd, bool no_color_opt, bool json)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (json || no_color_opt)
		return false;
	if (nc && nc[0])
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fd) == 1;
}

const char *ws_sgr_state(bool on, uint8_t st)
{
	if (!on)
		return "";
	switch (st) {
	case WS_ST_ESTABLISHED:
		return "\033[32m";         /* green */
	case WS_ST_SYN_SENT:
	case WS_ST_SYN_RECEIVED:
		return "\033[33m";         /* yellow */
	case WS_ST_LISTEN:
		return "\033[34m";         /* blue */
	case WS_ST_FIN_WAIT_1:
	case WS_ST_FIN_WAIT_2:
	case WS_ST_CLOSE_WAIT:
	case WS_ST_CLOSING:
	case WS_ST_LAST_ACK:
		return "\033[35m";         /* magenta */
	case WS_ST_TIME_WAIT:
		return "\033[36m";         /* cyan */
	case WS_ST_CLOSED:
		return "\033[1m";          /* bold */
	default:
		return "\033[2m";          /* dim: UNKNOWN */
	}
}

const char *ws_sgr_flags(bool on, uint8_t flags)
{
	if (!on)
		return "";
	if (flags & WS_TCP_RST)
		return "\033[1;31m";       /* bold red */
	if (flags & WS_TCP_SYN)
		return "\033[1;32m";       /* bold green */
	if (flags & WS_TCP_FIN)
		return "\033[1;35m";       /* bold magenta */
	return "\033[1m";
}

const char *ws_sgr_warn(bool on)
{
	return on ? "\033[31m" : "";
}

const char *ws_sgr_end(bool on)
{
	return on ? "\033[0m" : "";
}
