/* SPDX-License-Identifier: MIT */
/* front.c - log-ready names for why a frontend queue broke, or dropped an RX packet. */
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

const char *engine_front_rx_err_str(enum engine_front_rx_err e)
{
	switch (e) {
	case ENGINE_FRONT_RX_ERR_NONE:
		return "no error";
	case ENGINE_FRONT_RX_ERR_MAX:
		break;
	case ENGINE_FRONT_RX_ERR_STATUS:
		return "a slot with an error status";
	case ENGINE_FRONT_RX_ERR_PAGE:
		return "a slot's offset + size past its page";
	case ENGINE_FRONT_RX_ERR_SLOTS:
		return "more data slots than the limit";
	case ENGINE_FRONT_RX_ERR_EXTRAS:
		return "more extra-info slots than types exist";
	case ENGINE_FRONT_RX_ERR_RUNT:
		return "shorter than an Ethernet header";
	case ENGINE_FRONT_RX_ERR_GSO:
		return "GSO not advertised or not matching the headers";
	case ENGINE_FRONT_RX_ERR_CSUM:
		return "checksum offload on headers that cannot be found";
	}
	return "unknown error";
}
