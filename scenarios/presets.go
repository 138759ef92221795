package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// presetDir is the embedded directory of the built-in scenarios.
const presetDir = "presets"

//go:embed presets/*.yaml
var presetFS embed.FS

// Presets returns the names of the built-in scenarios, sorted. Safe for
// concurrent use.
func Presets() []string {
	entries, err := fs.ReadDir(presetFS, presetDir)
	if err != nil {
		panic(fmt.Sprintf("scenarios: embedded presets: %v", err)) // cannot happen: embedded at build time
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Preset returns the YAML of the built-in scenario name, as embedded. It
// returns an error listing the presets when there is no such preset. Safe
// for concurrent use.
func Preset(name string) ([]byte, error) {
	if name != "" && !strings.ContainsAny(name, `/\.`) {
		if data, err := presetFS.ReadFile(presetDir + "/" + name + ".yaml"); err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("unknown preset %q (want one of %s)", name, strings.Join(Presets(), ", "))
}
