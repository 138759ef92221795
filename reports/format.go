package reports

import (
	"fmt"
	"math"
	"strings"

	"github.com/slotrush/slotrush/results"
)

// commas formats n with thousands separators: 5812 → "5,812".
func commas(n int64) string { return results.Commas(n) }

// pct formats a share in [0,1] as a percentage with the precision a reader
// needs: "97%", "4.2%", "0.4%", "0.04%", "0%".
func pct(share float64) string {
	return pctPoints(share * 100)
}

// pctPoints formats v, already in percent.
func pctPoints(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v == 0:
		return "0%"
	case a >= 10:
		return fmt.Sprintf("%.0f%%", v)
	case a >= 1:
		return trimZero(fmt.Sprintf("%.1f", v)) + "%"
	case a >= 0.1:
		return trimZero(fmt.Sprintf("%.1f", v)) + "%"
	case a >= 0.01:
		return trimZero(fmt.Sprintf("%.2f", v)) + "%"
	default:
		if v > 0 {
			return "<0.01%"
		}
		return ">-0.01%"
	}
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// ms formats a latency given in milliseconds: "0.42 ms", "12 ms", "3.4 s".
func ms(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v >= 10000:
		return fmt.Sprintf("%.0f s", v/1000)
	case v >= 1000:
		return trimZero(fmt.Sprintf("%.1f", v/1000)) + " s"
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 1:
		return trimZero(fmt.Sprintf("%.1f", v)) + " ms"
	default:
		return trimZero(fmt.Sprintf("%.2f", v)) + " ms"
	}
}

// seconds formats a duration in seconds: "23 s", "1.5 s", "4 min 10 s",
// "3 h", "2 h 30 min".
func seconds(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v >= 2*3600:
		// Hours: to the minute.
		m := int(math.Round(v / 60))
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	case v >= 120:
		m := int(v) / 60
		return fmt.Sprintf("%d min %d s", m, int(v)-60*m)
	case v >= 10:
		return fmt.Sprintf("%.0f s", v)
	default:
		return trimZero(fmt.Sprintf("%.1f", v)) + " s"
	}
}
