package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	pb "berthinterop/health"
)

// cmdBench runs N goroutines calling Health.Check back to back over ONE shared connection (as a Kata
// shim does), then prints throughput and latency percentiles. Calls started during warm-up are not counted.
func cmdBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	proto := fs.String("proto", "ttrpc", "ttrpc or grpc")
	addr := fs.String("addr", "", "unix:///path")
	n := fs.Int("concurrency", 1, "goroutines sharing the connection")
	duration := fs.Duration("duration", 5*time.Second, "measured time")
	warmup := fs.Duration("warmup", time.Second, "uncounted time before measuring")
	callTimeout := fs.Duration("call-timeout", 10*time.Second, "per-call timeout")
	fs.Parse(args)
	if *n < 1 {
		return fmt.Errorf("--concurrency must be >= 1")
	}

	check, _, closer, err := healthClient(*proto, *addr)
	if err != nil {
		return err
	}
	defer closer()

	start := time.Now()
	measureFrom := start.Add(*warmup)
	stopAt := measureFrom.Add(*duration)
	type result struct {
		lat    []time.Duration
		errs   int
		last   time.Time
		errMsg error
	}
	results := make([]result, *n)
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			req := &pb.CheckRequest{}
			for {
				t0 := time.Now()
				if !t0.Before(stopAt) {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), *callTimeout)
				resp, err := check(ctx, req)
				cancel()
				t1 := time.Now()
				if t0.Before(measureFrom) {
					continue
				}
				r.last = t1
				if err == nil && resp.Status != pb.HealthCheckResponse_SERVING {
					err = fmt.Errorf("Check returned %v", resp.Status)
				}
				if err != nil {
					r.errs++
					if r.errMsg == nil {
						r.errMsg = err
					}
					continue
				}
				r.lat = append(r.lat, t1.Sub(t0))
			}
		}(&results[i])
	}
	wg.Wait()

	var all []time.Duration
	errs := 0
	last := measureFrom
	var firstErr error
	for _, r := range results {
		all = append(all, r.lat...)
		errs += r.errs
		if r.last.After(last) {
			last = r.last
		}
		if firstErr == nil {
			firstErr = r.errMsg
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	secs := last.Sub(measureFrom).Seconds()
	tput := 0.0
	if secs > 0 {
		tput = float64(len(all)) / secs
	}
	emit(struct {
		Proto       string  `json:"proto"`
		Concurrency int     `json:"concurrency"`
		Calls       int     `json:"calls"`
		Seconds     float64 `json:"seconds"`
		Throughput  float64 `json:"throughput"`
		P50         float64 `json:"p50_us"`
		P99         float64 `json:"p99_us"`
		Errors      int     `json:"errors"`
	}{*proto, *n, len(all), round(secs, 3), round(tput, 1), pct(all, 0.50), pct(all, 0.99), errs})
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "bench: first error:", firstErr)
		os.Exit(1)
	}
	if len(all) == 0 {
		return fmt.Errorf("no calls completed")
	}
	return nil
}

// pct is the nearest-rank percentile of sorted latencies, in microseconds.
func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return round(float64(sorted[i])/1e3, 1)
}

func round(v float64, digits int) float64 {
	s := math.Pow(10, float64(digits))
	return math.Round(v*s) / s
}
