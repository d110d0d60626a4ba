/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/* A host file or folder, as fstat() tells it apart from every other. */
struct ou_file_id {
	dev_t dev;
	ino_t ino;
};

/* The kinds of file system entry ociuser tells apart, in bases and layers. */
enum ou_entry_type {
	OU_ENTRY_FILE = 0,
	OU_ENTRY_DIR,
	OU_ENTRY_SYMLINK,
	OU_ENTRY_HARDLINK,
	OU_ENTRY_OTHER, /* device, FIFO or socket: only ever seen in bases */
};
