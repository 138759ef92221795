package reports

// gatewayRow is the comparison table's row of the requests the gateway in
// front of every partition refused with its own 429 (among the 429s).
func gatewayRow() rowSpec {
	return rowSpec{"429 by the gateway", "refused by the gateway in front of every partition, before any partition (among the 429s)", func(st designStats) cell {
		return cell{Text: countOf(st.s.Design.Requests.GatewayThrottled, st.total)}
	}}
}
