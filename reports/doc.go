// Package reports renders slotrush results: plots (gonum/plot), the
// self-contained HTML report, the verdict a stakeholder reads first, and
// compare, the CI regression gate with its text, Markdown and JUnit
// writers. It reads the result contract of package results and imports
// only models and results among slotrush packages.
package reports
