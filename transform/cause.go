package transform

// CauseLabel returns the ITU-T Q.850 name of a disconnect cause code, or ""
// for a code outside the table.
func CauseLabel(code int) string {
	if code < 0 || code >= len(q850) {
		return ""
	}
	return q850[code]
}

// q850 lists the Q.850 cause values by code.
var q850 = [...]string{
	1:   "unallocated number",
	2:   "no route to specified transit network",
	3:   "no route to destination",
	6:   "channel unacceptable",
	8:   "preemption",
	16:  "normal clearing",
	17:  "user busy",
	18:  "no user responding",
	19:  "no answer from user",
	20:  "subscriber absent",
	21:  "call rejected",
	22:  "number changed",
	26:  "non-selected user clearing",
	27:  "destination out of order",
	28:  "invalid number format",
	29:  "facility rejected",
	30:  "response to status enquiry",
	31:  "normal, unspecified",
	34:  "no circuit available",
	38:  "network out of order",
	41:  "temporary failure",
	42:  "switching equipment congestion",
	43:  "access information discarded",
	44:  "requested channel not available",
	47:  "resource unavailable, unspecified",
	49:  "quality of service not available",
	50:  "requested facility not subscribed",
	55:  "incoming calls barred within CUG",
	57:  "bearer capability not authorized",
	58:  "bearer capability not presently available",
	63:  "service or option not available",
	65:  "bearer capability not implemented",
	66:  "channel type not implemented",
	69:  "requested facility not implemented",
	79:  "service or option not implemented",
	81:  "invalid call reference value",
	88:  "incompatible destination",
	95:  "invalid message, unspecified",
	96:  "mandatory information element missing",
	97:  "message type non-existent",
	99:  "information element non-existent",
	100: "invalid information element contents",
	102: "recovery on timer expiry",
	111: "protocol error, unspecified",
	127: "interworking, unspecified",
}
