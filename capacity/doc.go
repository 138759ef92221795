// Package capacity answers "how big a crowd can this design take before
// people suffer?": it parses a service-level objective (ParseSLO), searches
// per design for the largest scale of a scenario's crowd that still meets
// it (Search, over a callback that runs one step on any engine, so it is
// testable without the engines), fits the Universal Scalability Law to the
// throughput the steps measured (FitUSL, with gonum's optimize), and holds
// the capacity.json contract (File, Read, Write) with its format version.
//
// It imports results and models among slotrush packages and no engine: the
// command wires an engine (the model or the live server) in as a StepFunc.
package capacity
