package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/slotrush/slotrush/results"
)

// environment describes this machine and build for a result.
func environment() results.Environment {
	env := results.Environment{
		Slotrush: version, Commit: commit, GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU(), CPU: cpuModel(),
	}
	if env.Commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					env.Commit = s.Value
				}
			}
		}
	}
	return env
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
