package opentelemetry_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	collector "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/pixelk6/pixelk6/output/internal/servertest"
)

// receiver is an OTLP metrics receiver built on the official OTLP protobuf service types:
// it keeps every export request, over gRPC and over HTTP.
type receiver struct {
	collector.UnimplementedMetricsServiceServer
	mu       sync.Mutex
	requests []*collector.ExportMetricsServiceRequest
	headers  []string // the x-test header of each request
}

func (r *receiver) Export(ctx context.Context, req *collector.ExportMetricsServiceRequest) (*collector.ExportMetricsServiceResponse, error) {
	r.keep(req, "")
	return &collector.ExportMetricsServiceResponse{}, nil
}

func (r *receiver) keep(req *collector.ExportMetricsServiceRequest, header string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
	r.headers = append(r.headers, header)
}

// grpcReceiver serves the receiver over gRPC on a loopback port.
func grpcReceiver(t *testing.T) (*receiver, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{}
	srv := grpc.NewServer()
	collector.RegisterMetricsServiceServer(srv, r)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return r, l.Addr().String()
}

// httpReceiver serves the receiver over OTLP/HTTP (protobuf) on a loopback port.
func httpReceiver(t *testing.T) (*receiver, string) {
	t.Helper()
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /custom/metrics", func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var m collector.ExportMetricsServiceRequest
		if err := proto.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.keep(&m, req.Header.Get("X-Test"))
		out, _ := proto.Marshal(&collector.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r, l.Addr().String()
}

// totals are the last cumulative values per metric name, summed over attribute sets:
// a sum's value, a histogram's count and sum.
type totals struct {
	sum, histCount, histSum map[string]float64
	units                   map[string]string
	attrs                   map[string][]map[string]string
	service                 string
}

func attrMap(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.GetStringValue()
	}
	return m
}

// last reads the requests in order; with cumulative temporality the last data point of
// each series holds its total.
func (r *receiver) last() totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	type key struct{ name, attrs string }
	sums, hc, hs := map[key]float64{}, map[key]float64{}, map[key]float64{}
	t := totals{sum: map[string]float64{}, histCount: map[string]float64{}, histSum: map[string]float64{}, units: map[string]string{}, attrs: map[string][]map[string]string{}}
	seen := map[key]bool{}
	for _, req := range r.requests {
		for _, rm := range req.ResourceMetrics {
			t.service = attrMap(rm.Resource.Attributes)["service.name"]
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					t.units[m.Name] = m.Unit
					switch d := m.Data.(type) {
					case *metricspb.Metric_Sum:
						for _, dp := range d.Sum.DataPoints {
							k := key{m.Name, fmt.Sprint(attrMap(dp.Attributes))}
							v := dp.GetAsDouble()
							if _, isInt := dp.Value.(*metricspb.NumberDataPoint_AsInt); isInt {
								v = float64(dp.GetAsInt())
							}
							sums[k] = v
							if !seen[k] {
								seen[k] = true
								t.attrs[m.Name] = append(t.attrs[m.Name], attrMap(dp.Attributes))
							}
						}
					case *metricspb.Metric_Histogram:
						for _, dp := range d.Histogram.DataPoints {
							k := key{m.Name, fmt.Sprint(attrMap(dp.Attributes))}
							hc[k], hs[k] = float64(dp.Count), dp.GetSum()
						}
					}
				}
			}
		}
	}
	for k, v := range sums {
		t.sum[k.name] += v
	}
	for k, v := range hc {
		t.histCount[k.name] += v
		t.histSum[k.name] += hs[k]
	}
	return t
}

const script = `
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
const bytes = new Counter('payload_bytes');
export const options = { vus: 3, iterations: 90 };
export default function () {
  const r = http.get(__ENV.TARGET, { tags: { name: 'page' } });
  check(r, { 'ok': (r) => r.status === 200, 'never': (r) => r.status === 404 });
  bytes.add(r.body.length * 2.5);
}
`

func checkTotals(t *testing.T, r *receiver, js string, prefix string) {
	t.Helper()
	want := servertest.JSONTotals(t, js)
	got := r.last()
	if got.service != "k6" {
		t.Errorf("service.name %q, want k6", got.service)
	}
	for _, m := range []string{"http_reqs", "iterations", "data_received", "payload_bytes"} {
		if g := got.sum[prefix+m]; !servertest.Close(g, want[m].Sum) {
			t.Errorf("%s: OTLP sum %v, JSON sum %v", m, g, want[m].Sum)
		}
	}
	for _, m := range []string{"http_req_duration", "iteration_duration"} {
		if int(got.histCount[prefix+m]) != want[m].Count || !servertest.Close(got.histSum[prefix+m], want[m].Sum) {
			t.Errorf("%s: OTLP histogram count %v sum %v, JSON count %d sum %v", m, got.histCount[prefix+m], got.histSum[prefix+m], want[m].Count, want[m].Sum)
		}
	}
	if u := got.units[prefix+"http_req_duration"]; u != "ms" {
		t.Errorf("http_req_duration unit %q", u)
	}
	if u := got.units[prefix+"data_received"]; u != "By" {
		t.Errorf("data_received unit %q", u)
	}
	// a rate: one counter NAME.total with condition zero/nonzero
	if g := got.sum[prefix+"checks.total"]; int(g) != want["checks"].Count {
		t.Errorf("checks.total %v, JSON count %d", g, want["checks"].Count)
	}
	conds := map[string]bool{}
	for _, a := range got.attrs[prefix+"checks.total"] {
		conds[a["condition"]+"/"+a["check"]] = true
	}
	if !conds["nonzero/ok"] || !conds["zero/never"] || len(conds) != 2 {
		t.Errorf("checks.total attributes: %v", got.attrs[prefix+"checks.total"])
	}
	for _, a := range got.attrs[prefix+"http_reqs"] {
		if a["name"] != "page" || a["method"] != "GET" || a["status"] != "200" {
			t.Errorf("http_reqs attributes: %v", a)
		}
	}
}

func TestOTLPgRPC(t *testing.T) {
	r, addr := grpcReceiver(t)
	target := servertest.Target(t)
	js := filepath.Join(t.TempDir(), "out.json")
	t.Setenv("K6_OTEL_GRPC_EXPORTER_ENDPOINT", addr)
	t.Setenv("K6_OTEL_GRPC_EXPORTER_INSECURE", "true")
	t.Setenv("K6_OTEL_FLUSH_INTERVAL", "100ms")
	t.Setenv("K6_OTEL_EXPORT_INTERVAL", "300ms")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "json="+js,
		"--out", "opentelemetry", servertest.Script(t, script))
	if code != 0 || stderr != "" {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	checkTotals(t, r, js, "")
}

func TestOTLPHTTP(t *testing.T) {
	r, addr := httpReceiver(t)
	target := servertest.Target(t)
	js := filepath.Join(t.TempDir(), "out.json")
	t.Setenv("K6_OTEL_EXPORTER_PROTOCOL", "http/protobuf")
	t.Setenv("K6_OTEL_HTTP_EXPORTER_ENDPOINT", addr)
	t.Setenv("K6_OTEL_HTTP_EXPORTER_INSECURE", "true")
	t.Setenv("K6_OTEL_HTTP_EXPORTER_URL_PATH", "/custom/metrics")
	t.Setenv("K6_OTEL_HEADERS", "X-Test=yes")
	t.Setenv("K6_OTEL_METRIC_PREFIX", "k6_")
	t.Setenv("K6_OTEL_EXPORT_INTERVAL", "300ms")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "json="+js,
		"--out", "opentelemetry", servertest.Script(t, script))
	if code != 0 || stderr != "" {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	checkTotals(t, r, js, "k6_")
	for _, h := range r.headers {
		if h != "yes" {
			t.Fatalf("K6_OTEL_HEADERS not sent: %q", r.headers)
		}
	}
}

// TestOTLPDown exports to a port where nothing listens: the run ends with exit code 0
// and says how many data points were dropped.
func TestOTLPDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	target := servertest.Target(t)
	t.Setenv("K6_OTEL_EXPORTER_TYPE", "http")
	t.Setenv("K6_OTEL_HTTP_EXPORTER_ENDPOINT", addr)
	t.Setenv("K6_OTEL_HTTP_EXPORTER_INSECURE", "true")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "opentelemetry", servertest.Script(t, script))
	if code != 0 {
		t.Fatalf("exit code %d, want 0: %s", code, stderr)
	}
	if !strings.Contains(stderr, "points could not be written and were dropped") {
		t.Fatalf("no report of the dropped points: %s", stderr)
	}
	t.Log(stderr)
}
