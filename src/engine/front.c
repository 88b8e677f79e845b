/* SPDX-License-Identifier: MIT */
/* front.c - log-ready names for the reasons a frontend queue is declared broken. */
#include "front.h"

const char *engine_front_fault_str(enum engine_front_fault f)
{
	switch (f) {
	case ENGINE_FRONT_FAULT_NONE:
		return "no fault";
	case ENGINE_FRONT_FAULT_TX_RSP_PROD:
		return "TX response producer ran past the requests sent";
	case ENGINE_FRONT_FAULT_TX_BAD_ID:
		return "TX response id outside the buffer pool";
	case ENGINE_FRONT_FAULT_TX_ID_FREE:
		return "TX response for a buffer not outstanding";
	case ENGINE_FRONT_FAULT_TX_NULL:
		return "TX NULL response without an extra slot to answer";
	case ENGINE_FRONT_FAULT_RX_RSP_PROD:
		return "RX response producer ran past the requests posted";
	case ENGINE_FRONT_FAULT_RX_ID:
		return "RX response id differs from the one posted in its slot";
	case ENGINE_FRONT_FAULT_RX_STUCK:
		return "RX packet left open over every posted buffer";
	case ENGINE_FRONT_FAULT_CTRL_RSP_PROD:
		return "control response producer ran past the requests sent";
	case ENGINE_FRONT_FAULT_CTRL_ID:
		return "control response id not outstanding";
	case ENGINE_FRONT_FAULT_CTRL_TYPE:
		return "control response type differs from its request's";
	}
	return "unknown fault";
}
