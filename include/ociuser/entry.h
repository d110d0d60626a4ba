/* SPDX-License-Identifier: MIT */
#pragma once

/* The kinds of file system entry ociuser tells apart, in bases and layers. */
enum ou_entry_type {
	OU_ENTRY_FILE = 0,
	OU_ENTRY_DIR,
	OU_ENTRY_SYMLINK,
	OU_ENTRY_HARDLINK,
	OU_ENTRY_OTHER, /* device, FIFO or socket: only ever seen in bases */
};
