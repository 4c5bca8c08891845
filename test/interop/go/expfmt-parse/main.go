// expfmt-parse reads Prometheus text exposition on stdin with github.com/prometheus/common/expfmt's
// TextParser, the parser Kata's shim and kata-monitor use on the agent's GetMetrics text, and prints the
// families as one JSON object: {"<name>": {"type": "GAUGE", "help": "...", "samples": [{"labels": {...},
// "value": 1}]}}. A text the parser rejects exits 1 with its error on stderr.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
}

type family struct {
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Samples []sample `json:"samples"`
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

func main() {
	var parser expfmt.TextParser
	parsed, err := parser.TextToMetricFamilies(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := map[string]family{}
	for name, f := range parsed {
		fam := family{Type: f.GetType().String(), Help: f.GetHelp(), Samples: []sample{}}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			fam.Samples = append(fam.Samples, sample{Labels: labels, Value: value(f.GetType(), m)})
		}
		out[name] = fam
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
