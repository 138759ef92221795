package reports

// gatewayRow is the comparison table's row of the requests the gateway in
// front of every partition refused with its own 429 (among the 429s).
func gatewayRow() rowSpec {
	return rowSpec{"429 by the gateway", "refused by the gateway in front of every partition, before any partition (among the 429s)", func(st designStats) cell {
		return cell{Text: countOf(st.s.Design.Requests.GatewayThrottled, st.total)}
	}}
}

// hadGateway reports whether a result of stats ran behind a gateway (its
// scenario's "gateway" parameter): its row then shows even when the
// gateway refused nothing.
func hadGateway(stats []designStats) bool {
	for _, st := range stats {
		if st.s.Result == nil {
			continue
		}
		for _, p := range st.s.Result.Parameters {
			if p.Name == "gateway" {
				return true
			}
		}
	}
	return false
}
