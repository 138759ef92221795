// Package sim is the crowd in motion: the user journey as one state machine
// (list PPVs → list slots → book; on 409 try another slot, on 429 wait
// Retry-After, on 5xx or timeout back off, give up when patience runs out)
// and the engines that drive it. The live engine sends real HTTP to a target
// on a real clock; journeys are paced open-model, so latency is measured from
// each request's scheduled start and a slow server cannot slow the crowd.
package sim
