/* SPDX-License-Identifier: MIT */
/* fault.c - log-ready names for the reasons a queue is declared broken. */
#include "fault.h"

const char *engine_fault_str(enum engine_fault f)
{
	switch (f) {
	case ENGINE_FAULT_NONE:
		return "no fault";
	case ENGINE_FAULT_REQ_PROD:
		return "request producer ran past the ring size";
	case ENGINE_FAULT_TOO_MANY_SLOTS:
		return "packet uses more slots than the fatal threshold";
	case ENGINE_FAULT_CROSS_PAGE:
		return "request crosses its page boundary";
	case ENGINE_FAULT_TOO_MANY_EXTRAS:
		return "extra-info chain longer than the known types";
	}
	return "unknown fault";
}
