// Package grpc is the k6/net/grpc module: a gRPC client for scripts with k6's API.
//
//	client := new grpc.Client()
//	client.load(importPaths, ...protoFiles)   // init only: .proto files compiled by protocompile
//	client.loadProtoset(path)                 // init only: a serialised FileDescriptorSet
//	client.connect(addr, params)              // VU code only: plaintext, reflect, reflectMetadata,
//	                                          // timeout, maxReceiveSize, maxSendSize, tls, authority
//	client.invoke(method, request, params)    // unary: a Response {status, message, headers, trailers, error}
//	client.asyncInvoke(method, request, params) // the same as a Promise, resolved on the VU's event loop
//	client.healthCheck([service])             // grpc.health.v1.Health/Check
//	client.close()
//	new grpc.Stream(client, method, params)   // on('data'|'error'|'end'), write(msg), end()
//
// Messages are dynamic (dynamicpb) and cross between JavaScript and protobuf as the
// protobuf JSON mapping, as in k6: unpopulated fields are emitted. Requests go through
// JSON.stringify and protojson; responses become objects directly (toJS), held to
// protojson's result by a differential test. The
// status constants (grpc.StatusOK ... grpc.StatusUnauthenticated) and the health-check
// constants are exported.
//
// Metrics are k6's: grpc_req_duration (every RPC, unary or stream, at its end),
// grpc_streams, grpc_streams_msgs_sent, grpc_streams_msgs_received, tagged with the VU's
// tags, the call's params.tags and the system tags url (address + method), service,
// method, name (the method path unless params.tags names it), status (the gRPC code) and,
// when options.systemTags enables it, ip.
// Traffic counts in data_sent and data_received.
//
// Concurrency: a stream's reader goroutine hands every event to the VU's event loop one at
// a time (it reserves the next slot from the VU goroutine before reading on), so all
// handlers run on the VU goroutine; writes happen on the VU goroutine. Connections a
// script leaves open are closed when the test run ends.
package grpc

import (
	"errors"

	"github.com/dop251/goja"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

func init() { modules.Register("k6/net/grpc", Root{}) }

// Root is the k6/net/grpc module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance {
	mi := &instance{vu: vu}
	if env := vu.InitEnv(); env != nil && env.Registry != nil {
		mi.m = registerMetrics(env.Registry)
	}
	return mi
}

type instance struct {
	vu modules.VU
	m  *grpcMetrics
	// clients are the Go side of the grpc.Client objects this instance made (Stream needs it).
	clients map[*goja.Object]*client
	// streams are the streams open on this VU (see reap).
	streams map[*stream]struct{}
	// jsonStringify and jsonParse are the runtime's JSON functions, looked up once.
	jsonStringify, jsonParse goja.Callable
}

// stringify is JSON.stringify(v).
func (mi *instance) stringify(v goja.Value) ([]byte, error) {
	rt := mi.vu.Runtime()
	if mi.jsonStringify == nil {
		mi.jsonStringify, _ = goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
	}
	out, err := mi.jsonStringify(goja.Undefined(), v)
	if err != nil {
		return nil, err
	}
	if goja.IsUndefined(out) {
		return nil, errors.New("the value has no JSON form")
	}
	return []byte(out.String()), nil
}

// parse is JSON.parse(b).
func (mi *instance) parse(b []byte) (goja.Value, error) {
	rt := mi.vu.Runtime()
	if mi.jsonParse == nil {
		mi.jsonParse, _ = goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	}
	return mi.jsonParse(goja.Undefined(), rt.ToValue(string(b)))
}

// grpcMetrics are k6's gRPC metrics.
type grpcMetrics struct {
	ReqDuration, Streams, MsgsSent, MsgsReceived *metrics.Metric
}

func registerMetrics(r *metrics.Registry) *grpcMetrics {
	return &grpcMetrics{
		ReqDuration:  r.MustNewMetric("grpc_req_duration", metrics.Trend, metrics.Time),
		Streams:      r.MustNewMetric("grpc_streams", metrics.Counter, metrics.Default),
		MsgsSent:     r.MustNewMetric("grpc_streams_msgs_sent", metrics.Counter, metrics.Default),
		MsgsReceived: r.MustNewMetric("grpc_streams_msgs_received", metrics.Counter, metrics.Default),
	}
}

// metrics returns the module's metrics, registering them in st's registry when the
// instance was made without an init environment.
func (mi *instance) metrics(st *modules.State) *grpcMetrics {
	if mi.m == nil {
		mi.m = registerMetrics(st.Registry)
	}
	return mi.m
}

// statusNames are the exported status constants, by gRPC code.
var statusNames = map[string]codes.Code{
	"StatusOK": codes.OK, "StatusCanceled": codes.Canceled, "StatusUnknown": codes.Unknown,
	"StatusInvalidArgument": codes.InvalidArgument, "StatusDeadlineExceeded": codes.DeadlineExceeded,
	"StatusNotFound": codes.NotFound, "StatusAlreadyExists": codes.AlreadyExists,
	"StatusPermissionDenied": codes.PermissionDenied, "StatusResourceExhausted": codes.ResourceExhausted,
	"StatusFailedPrecondition": codes.FailedPrecondition, "StatusAborted": codes.Aborted,
	"StatusOutOfRange": codes.OutOfRange, "StatusUnimplemented": codes.Unimplemented,
	"StatusInternal": codes.Internal, "StatusUnavailable": codes.Unavailable,
	"StatusDataLoss": codes.DataLoss, "StatusUnauthenticated": codes.Unauthenticated,
}

// healthNames are the exported health-check constants (k6 spells the last one
// "HealthCheckServiceUnkown"; both spellings are exported).
var healthNames = map[string]healthpb.HealthCheckResponse_ServingStatus{
	"HealthCheckUnknown":        healthpb.HealthCheckResponse_UNKNOWN,
	"HealthCheckServing":        healthpb.HealthCheckResponse_SERVING,
	"HealthCheckNotServing":     healthpb.HealthCheckResponse_NOT_SERVING,
	"HealthCheckServiceUnkown":  healthpb.HealthCheckResponse_SERVICE_UNKNOWN,
	"HealthCheckServiceUnknown": healthpb.HealthCheckResponse_SERVICE_UNKNOWN,
}

// Exports implements modules.Instance.
func (mi *instance) Exports() modules.Exports {
	named := map[string]any{
		"Client": mi.newClient,
		"Stream": mi.newStream,
	}
	for k, c := range statusNames {
		named[k] = int(c)
	}
	for k, s := range healthNames {
		named[k] = int(s)
	}
	return modules.Exports{Default: named, Named: named}
}

// throw throws err as a JavaScript exception (a JS exception or an interrupt as itself).
func throw(rt *goja.Runtime, err error) {
	panic(jsError(rt, err))
}

func jsError(rt *goja.Runtime, err error) any {
	switch e := err.(type) {
	case *goja.Exception:
		return e
	case *goja.InterruptedError:
		return e
	}
	return rt.NewGoError(err)
}
