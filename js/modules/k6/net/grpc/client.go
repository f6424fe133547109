package grpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/dop251/goja"
	gogrpc "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/pixelk6/pixelk6/js/modules"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
	"github.com/pixelk6/pixelk6/metrics"
)

// defaultTimeout is k6's connect and request timeout.
const defaultTimeout = 60 * time.Second

// healthMethod is the standard health check's method path.
const healthMethod = "/grpc.health.v1.Health/Check"

// client is one grpc.Client: its descriptors (from load, loadProtoset and reflection) and
// its connection. Used on the VU goroutine only.
type client struct {
	mi  *instance
	obj *goja.Object

	files   *protoregistry.Files
	types   *dynamicpb.Types
	methods map[string]protoreflect.MethodDescriptor // by "/package.Service/Method"

	conn *gogrpc.ClientConn
	addr string
	// remoteIP is the IP the connection reached (the ip system tag), set by its dialer.
	remoteIP atomic.Value // string
}

// newClient is the grpc.Client constructor. k6 ignores the constructor's arguments; so
// does pixelk6.
func (mi *instance) newClient(call goja.ConstructorCall) *goja.Object {
	rt := mi.vu.Runtime()
	c := &client{mi: mi, files: new(protoregistry.Files), methods: map[string]protoreflect.MethodDescriptor{}}
	c.types = dynamicpb.NewTypes(c.files)
	c.obj = call.This
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"load": c.load, "loadProtoset": c.loadProtoset, "connect": c.connect,
		"invoke": c.invoke, "asyncInvoke": c.asyncInvoke, "healthCheck": c.healthCheck,
		"close": c.close,
	} {
		_ = c.obj.Set(name, rt.ToValue(fn))
	}
	if mi.clients == nil {
		mi.clients = map[*goja.Object]*client{}
	}
	mi.clients[c.obj] = c
	return c.obj
}

// addFiles registers files (and, first, their imports) and indexes their methods. A file
// already known by its path is kept as it was.
func (c *client) addFiles(files []protoreflect.FileDescriptor) []any {
	var infos []any
	var add func(f protoreflect.FileDescriptor)
	seen := map[string]bool{}
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imps := f.Imports()
		for i := range imps.Len() {
			add(imps.Get(i).FileDescriptor)
		}
		if _, err := c.files.FindFileByPath(f.Path()); err != nil {
			_ = c.files.RegisterFile(f) // a conflicting symbol keeps the first definition
		}
	}
	for _, f := range files {
		add(f)
		svcs := f.Services()
		for i := range svcs.Len() {
			sd := svcs.Get(i)
			ms := sd.Methods()
			for j := range ms.Len() {
				md := ms.Get(j)
				full := "/" + string(sd.FullName()) + "/" + string(md.Name())
				c.methods[full] = md
				infos = append(infos, map[string]any{
					"package": string(f.Package()), "service": string(sd.FullName()),
					"fullMethod": full, "name": string(md.Name()),
					"isClientStream": md.IsStreamingClient(), "isServerStream": md.IsStreamingServer(),
				})
			}
		}
	}
	c.types = dynamicpb.NewTypes(c.files)
	return infos
}

// load(importPaths, ...protoFiles) compiles .proto files, found relative to the script
// (like open()) or to the import paths, and returns their methods.
func (c *client) load(call goja.FunctionCall) goja.Value {
	rt := c.mi.vu.Runtime()
	env := c.mi.vu.InitEnv()
	if env == nil {
		throw(rt, errors.New("load must be called in the init context"))
	}
	var paths []string
	if v := call.Argument(0); !modules.IsNullish(v) {
		if err := rt.ExportTo(v, &paths); err != nil {
			throw(rt, fmt.Errorf("load: importPaths must be an array of strings: %w", err))
		}
	}
	var names []string
	for _, a := range call.Arguments[min(1, len(call.Arguments)):] {
		names = append(names, a.String())
	}
	if len(names) == 0 {
		throw(rt, errors.New("load: no proto files given"))
	}
	compile := func() ([]protoreflect.FileDescriptor, error) {
		comp := protocompile.Compiler{
			Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
				ImportPaths: paths,
				Accessor: func(p string) (io.ReadCloser, error) {
					b, err := env.ReadFile(p)
					if err != nil {
						return nil, err
					}
					return io.NopCloser(bytes.NewReader(b)), nil
				},
			}),
			MaxParallelism: 1,
		}
		compiled, err := comp.Compile(c.mi.vu.Context(), names...)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		fds := make([]protoreflect.FileDescriptor, len(compiled))
		for i, f := range compiled {
			fds[i] = f
		}
		return fds, nil
	}
	var fds []protoreflect.FileDescriptor
	var err error
	if env.Run != nil {
		// Every VU runs the init code: the files are compiled once per run and shared (the
		// descriptors are immutable).
		key := loadKey{cwd: env.CWD, paths: strings.Join(paths, "\x00"), names: strings.Join(names, "\x00")}
		fds, err = modules.RunValue(env.Run, key, compile)
	} else {
		fds, err = compile()
	}
	if err != nil {
		throw(rt, err)
	}
	return rt.ToValue(c.addFiles(fds))
}

// loadKey identifies one load() call's files in the run's cache.
type loadKey struct{ cwd, paths, names string }

// loadProtoset(path) reads a serialised FileDescriptorSet (protoc --descriptor_set_out
// --include_imports).
func (c *client) loadProtoset(call goja.FunctionCall) goja.Value {
	rt := c.mi.vu.Runtime()
	env := c.mi.vu.InitEnv()
	if env == nil {
		throw(rt, errors.New("loadProtoset must be called in the init context"))
	}
	path := call.Argument(0).String()
	b, err := env.ReadFile(path)
	if err != nil {
		throw(rt, fmt.Errorf("couldn't open protoset: %w", err))
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		throw(rt, fmt.Errorf("couldn't unmarshal protoset file %s: %w", path, err))
	}
	infos, err := c.addSet(&set)
	if err != nil {
		throw(rt, fmt.Errorf("protoset %s: %w", path, err))
	}
	return rt.ToValue(infos)
}

// addSet links a set of file descriptor protos and adds its files.
func (c *client) addSet(set *descriptorpb.FileDescriptorSet) ([]any, error) {
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, err
	}
	var fds []protoreflect.FileDescriptor
	reg.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		fds = append(fds, f)
		return true
	})
	return c.addFiles(fds), nil
}

// connectParams are connect's params (k6's ConnectParams).
type connectParams struct {
	Plaintext       bool              `js:"plaintext"`
	Reflect         bool              `js:"reflect"`
	ReflectMetadata map[string]string `js:"reflectMetadata"`
	Timeout         *time.Duration    `js:"timeout"`
	MaxReceiveSize  int64             `js:"maxReceiveSize"`
	MaxSendSize     int64             `js:"maxSendSize"`
	TLS             *tlsParams        `js:"tls"`
	Authority       string            `js:"authority"`
}

// tlsParams are connect's params.tls: PEM client certificate, key and CA certificates.
type tlsParams struct {
	Cert     string     `js:"cert"`
	Key      string     `js:"key"`
	Password string     `js:"password"`
	CACerts  goja.Value `js:"cacerts"`
}

// connect(address, params) dials the server and waits until the connection is ready (or
// fails, or params.timeout passes); with params.reflect it then loads the server's
// descriptors by reflection. It throws on failure, as k6 does.
func (c *client) connect(call goja.FunctionCall) goja.Value {
	rt := c.mi.vu.Runtime()
	st := c.mi.vu.State()
	if st == nil {
		throw(rt, errors.New("connecting to a gRPC server in the init context is not supported"))
	}
	c.mi.reap(st)
	addr := call.Argument(0).String()
	var p connectParams
	if err := modules.DecodeOptions(rt, call.Argument(1), &p); err != nil {
		throw(rt, fmt.Errorf("invalid grpc.connect() parameters: %w", err))
	}
	if p.MaxReceiveSize < 0 || p.MaxSendSize < 0 {
		throw(rt, fmt.Errorf("invalid grpc.connect() parameters: maxReceiveSize and maxSendSize must not be negative, got %d and %d", p.MaxReceiveSize, p.MaxSendSize))
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		throw(rt, fmt.Errorf("grpc.connect: address %q must be host:port: %w", addr, err))
	}
	timeout := defaultTimeout
	if p.Timeout != nil {
		timeout = *p.Timeout
	}
	dial, tlsConf := httpmod.NetConfig(st, host)
	opts := []gogrpc.DialOption{
		gogrpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			conn, err := dial(ctx, "tcp", a)
			if err != nil {
				return nil, err
			}
			if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
				c.remoteIP.Store(ta.IP.String())
			}
			if st.Bytes == nil {
				return conn, nil
			}
			return &countingConn{Conn: conn, b: st.Bytes}, nil
		}),
		//lint:ignore SA1019 connect blocks until the connection is ready and reports why it is not, as k6's does
		gogrpc.WithBlock(),
		//lint:ignore SA1019 see WithBlock
		gogrpc.WithReturnConnectionError(),
		//lint:ignore SA1019 see WithBlock
		gogrpc.FailOnNonTempDialError(true),
	}
	var callOpts []gogrpc.CallOption
	if p.MaxReceiveSize > 0 {
		callOpts = append(callOpts, gogrpc.MaxCallRecvMsgSize(int(p.MaxReceiveSize)))
	}
	if p.MaxSendSize > 0 {
		callOpts = append(callOpts, gogrpc.MaxCallSendMsgSize(int(p.MaxSendSize)))
	}
	if len(callOpts) > 0 {
		opts = append(opts, gogrpc.WithDefaultCallOptions(callOpts...))
	}
	if p.Authority != "" {
		opts = append(opts, gogrpc.WithAuthority(p.Authority))
	}
	if p.Plaintext {
		opts = append(opts, gogrpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		if err := applyTLS(rt, tlsConf, p.TLS); err != nil {
			throw(rt, fmt.Errorf("grpc.connect: %w", err))
		}
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = host
			if p.Authority != "" {
				if h, _, err := net.SplitHostPort(p.Authority); err == nil {
					tlsConf.ServerName = h
				} else {
					tlsConf.ServerName = p.Authority
				}
			}
		}
		opts = append(opts, gogrpc.WithTransportCredentials(failFastTLS{credentials.NewTLS(tlsConf)}))
	}
	if c.conn != nil {
		c.closeConn()
	}
	ctx, cancel := context.WithTimeout(c.mi.vu.Context(), timeout)
	defer cancel()
	//lint:ignore SA1019 NewClient does not block; connect must (see WithBlock)
	conn, err := gogrpc.DialContext(ctx, "passthrough:///"+addr, opts...)
	if err != nil {
		throw(rt, fmt.Errorf("grpc.connect %s: %w", addr, err))
	}
	c.conn, c.addr = conn, addr
	if t, err := c.tracker(st); err == nil {
		t.add(conn)
	}
	if p.Reflect {
		set, err := reflectFiles(ctx, conn, p.ReflectMetadata)
		if err == nil {
			_, err = c.addSet(set)
		}
		if err != nil {
			throw(rt, fmt.Errorf("grpc.connect %s: reflection: %w", addr, err))
		}
	}
	return rt.ToValue(true)
}

// failFastTLS makes a failed TLS handshake (an unknown authority, a refused client
// certificate) end connect at once, as a refused TCP connection does, instead of being
// retried until the timeout: grpc-go retries every handshake error that does not say it is
// permanent.
type failFastTLS struct {
	credentials.TransportCredentials
}

func (c failFastTLS) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	nc, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, conn)
	if err != nil {
		return nil, nil, permanentError{err}
	}
	return nc, info, nil
}

func (c failFastTLS) Clone() credentials.TransportCredentials {
	return failFastTLS{c.TransportCredentials.Clone()}
}

// permanentError tells grpc-go not to retry err.
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Temporary() bool { return false }

// applyTLS adds params.tls to tc: the client certificate and the CA certificates.
func applyTLS(rt *goja.Runtime, tc *tls.Config, p *tlsParams) error {
	if p == nil {
		return nil
	}
	if p.Password != "" {
		return errors.New("tls.password (an encrypted private key) is not supported by pixelk6: decrypt the key first")
	}
	if p.Cert != "" || p.Key != "" {
		cert, err := tls.X509KeyPair([]byte(p.Cert), []byte(p.Key))
		if err != nil {
			return fmt.Errorf("tls.cert and tls.key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if modules.IsNullish(p.CACerts) {
		return nil
	}
	var pems []string
	if s, ok := p.CACerts.Export().(string); ok {
		pems = []string{s}
	} else if err := rt.ExportTo(p.CACerts, &pems); err != nil {
		return fmt.Errorf("tls.cacerts must be a PEM string or an array of them: %w", err)
	}
	pool := x509.NewCertPool()
	for i, pem := range pems {
		if !pool.AppendCertsFromPEM([]byte(pem)) {
			return fmt.Errorf("tls.cacerts[%d]: no PEM certificate", i)
		}
	}
	tc.RootCAs = pool
	return nil
}

// connTracker closes the connections and abandons the streams the VUs of a run left open
// when the run ends.
type connTracker struct {
	mu      sync.Mutex
	conns   map[*gogrpc.ClientConn]struct{}
	streams map[*stream]struct{}
}

func (t *connTracker) track(s *stream) {
	t.mu.Lock()
	if t.streams != nil {
		t.streams[s] = struct{}{}
	}
	t.mu.Unlock()
}

func (t *connTracker) forget(s *stream) {
	t.mu.Lock()
	delete(t.streams, s)
	t.mu.Unlock()
}

type trackerKey struct{}

func (c *client) tracker(st *modules.State) (*connTracker, error) {
	if st.Run == nil {
		return nil, errors.New("no run")
	}
	return modules.RunValue(st.Run, trackerKey{}, func() (*connTracker, error) {
		return &connTracker{conns: map[*gogrpc.ClientConn]struct{}{}, streams: map[*stream]struct{}{}}, nil
	})
}

func (t *connTracker) add(c *gogrpc.ClientConn) {
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
}

func (t *connTracker) remove(c *gogrpc.ClientConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// Close closes every connection still open.
func (t *connTracker) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.streams {
		s.drop()
	}
	for c := range t.conns {
		_ = c.Close()
	}
	t.conns, t.streams = nil, nil
	return nil
}

func (c *client) closeConn() {
	if c.conn == nil {
		return
	}
	if st := c.mi.vu.State(); st != nil {
		if t, err := c.tracker(st); err == nil {
			t.remove(c.conn)
		}
	}
	_ = c.conn.Close()
	c.conn = nil
}

// close() closes the connection.
func (c *client) close(goja.FunctionCall) goja.Value {
	c.closeConn()
	return goja.Undefined()
}

// callParams are the params of invoke, asyncInvoke and Stream (k6's Params).
type callParams struct {
	Metadata               goja.Value        `js:"metadata"`
	Tags                   map[string]string `js:"tags"`
	Timeout                *time.Duration    `js:"timeout"`
	DiscardResponseMessage bool              `js:"discardResponseMessage"`
	Authority              string            `js:"authority"`
}

// rpc is a prepared call: everything the goroutine that makes it needs.
type rpc struct {
	method  string
	md      protoreflect.MethodDescriptor
	req     proto.Message
	meta    metadata.MD
	timeout time.Duration
	// timeoutSet tells a params.timeout from the default.
	timeoutSet bool
	discard    bool
	opts       []gogrpc.CallOption
	tags       metrics.TagSet
	types      *dynamicpb.Types
}

// normalizeMethod adds the leading slash of a method path.
func normalizeMethod(m string) string {
	if !strings.HasPrefix(m, "/") {
		return "/" + m
	}
	return m
}

// prepare checks and converts a call's arguments on the VU goroutine. fn names the
// caller in errors.
func (c *client) prepare(fn, method string, reqV, paramsV goja.Value, needRequest bool) (*rpc, *modules.State, error) {
	rt := c.mi.vu.Runtime()
	st := c.mi.vu.State()
	if st == nil {
		return nil, nil, errors.New("invoking RPC methods in the init context is not supported")
	}
	c.mi.reap(st)
	if c.conn == nil {
		return nil, nil, errors.New("no gRPC connection, you must call connect first")
	}
	if method == "" {
		return nil, nil, errors.New("method to invoke cannot be empty")
	}
	method = normalizeMethod(method)
	md, ok := c.methods[method]
	if !ok {
		return nil, nil, fmt.Errorf("method %q not found in file descriptors", method)
	}
	var p callParams
	if err := modules.DecodeOptions(rt, paramsV, &p); err != nil {
		return nil, nil, fmt.Errorf("invalid GRPC's client.%s() parameters: %w", fn, err)
	}
	r := &rpc{method: method, md: md, timeout: defaultTimeout, discard: p.DiscardResponseMessage, types: c.types}
	if p.Timeout != nil {
		r.timeout, r.timeoutSet = *p.Timeout, true
	}
	if p.Authority != "" {
		r.opts = append(r.opts, gogrpc.CallAuthority(p.Authority))
	}
	meta, err := decodeMetadata(rt, p.Metadata)
	if err != nil {
		return nil, nil, err
	}
	r.meta = meta
	if needRequest {
		if modules.IsNullish(reqV) {
			return nil, nil, errors.New("request cannot be nil")
		}
		msg, err := c.toMessage(md.Input(), reqV)
		if err != nil {
			return nil, nil, err
		}
		r.req = msg
	}
	r.tags = c.callTags(st, method, p.Tags)
	return r, st, nil
}

// callTags are the tags of a call's samples, but status: the VU's, params.tags, and the
// system tags url, service, method and name (unless params.tags has a name).
func (c *client) callTags(st *modules.State, method string, custom map[string]string) metrics.TagSet {
	ts := modules.SampleTags(st, custom)
	ts = modules.WithSystemTag(st, ts, "url", c.addr+method)
	if svc, m, ok := strings.Cut(method[1:], "/"); ok {
		ts = modules.WithSystemTag(st, ts, "service", svc)
		ts = modules.WithSystemTag(st, ts, "method", m)
	}
	if _, named := custom["name"]; !named {
		ts = modules.WithSystemTag(st, ts, "name", method)
	}
	if ip, _ := c.remoteIP.Load().(string); ip != "" {
		ts = modules.WithSystemTag(st, ts, "ip", ip)
	}
	return ts
}

// decodeMetadata reads params.metadata: string values, and binary values (ArrayBuffer,
// typed arrays) for keys ending in "-bin".
func decodeMetadata(rt *goja.Runtime, v goja.Value) (metadata.MD, error) {
	md := metadata.MD{}
	if modules.IsNullish(v) {
		return md, nil
	}
	obj := v.ToObject(rt)
	for _, k := range obj.Keys() {
		val := obj.Get(k)
		key := strings.ToLower(k)
		if strings.HasSuffix(key, "-bin") {
			switch x := val.Export().(type) {
			case goja.ArrayBuffer:
				md.Append(key, string(x.Bytes()))
				continue
			case []byte:
				md.Append(key, string(x))
				continue
			case string:
				md.Append(key, x)
				continue
			}
			if o, ok := val.(*goja.Object); ok {
				if buf, ok := o.Get("buffer").Export().(goja.ArrayBuffer); ok {
					off, n := o.Get("byteOffset").ToInteger(), o.Get("byteLength").ToInteger()
					md.Append(key, string(buf.Bytes()[off:off+n]))
					continue
				}
			}
			return nil, fmt.Errorf("metadata %q: a -bin value must be a string, an ArrayBuffer or a typed array", k)
		}
		if _, isObj := val.(*goja.Object); isObj {
			return nil, fmt.Errorf("metadata %q: value must be a string", k)
		}
		md.Append(key, val.String())
	}
	return md, nil
}

// toMessage converts a JavaScript value to a message of type desc by the protobuf JSON
// mapping.
func (c *client) toMessage(desc protoreflect.MessageDescriptor, v goja.Value) (proto.Message, error) {
	b, err := c.mi.stringify(v)
	if err != nil {
		return nil, fmt.Errorf("unable to serialise request object: %w", err)
	}
	msg := dynamicpb.NewMessage(desc)
	if err := (protojson.UnmarshalOptions{Resolver: c.types}).Unmarshal(b, msg); err != nil {
		return nil, fmt.Errorf("unable to serialise request object to protocol buffer: %w", err)
	}
	return msg, nil
}

// outcome is what a unary call brought back, made JSON off the VU goroutine.
type outcome struct {
	code     codes.Code
	resp     protoreflect.Message // the response; nil when not OK or discarded
	message  []byte               // or the response message as JSON (healthCheck's)
	errJSON  []byte               // the status as JSON when not OK
	headers  metadata.MD
	trailers metadata.MD
	start    time.Time
	duration time.Duration
	err      error // a failure to marshal the response
}

// do makes a unary call. Safe to run on any goroutine.
func (r *rpc) do(ctx context.Context, conn *gogrpc.ClientConn, resp proto.Message) outcome {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ctx = metadata.NewOutgoingContext(ctx, r.meta)
	var o outcome
	opts := append([]gogrpc.CallOption{gogrpc.Header(&o.headers), gogrpc.Trailer(&o.trailers)}, r.opts...)
	o.start = time.Now()
	err := conn.Invoke(ctx, r.method, r.req, resp, opts...)
	o.duration = time.Since(o.start)
	mo := protojson.MarshalOptions{EmitUnpopulated: true, Resolver: r.types}
	if err != nil {
		s := status.Convert(err)
		o.code = s.Code()
		o.errJSON, o.err = mo.Marshal(s.Proto())
		return o
	}
	if !r.discard {
		o.resp = resp.ProtoReflect()
	}
	return o
}

// finish records the call's sample and returns k6's Response object. On the VU goroutine.
func (c *client) finish(st *modules.State, r *rpc, o outcome) (goja.Value, error) {
	if o.err != nil {
		return nil, fmt.Errorf("unable to convert response object to JSON: %w", o.err)
	}
	ctx := c.mi.vu.Context()
	if st.Samples != nil && ctx.Err() == nil {
		tags := modules.WithSystemTag(st, r.tags, "status", strconv.Itoa(int(o.code)))
		st.Samples.Push(ctx, []metrics.Sample{{Metric: c.mi.metrics(st).ReqDuration, Tags: tags, Time: o.start,
			Value: float64(o.duration) / float64(time.Millisecond)}})
	}
	rt := c.mi.vu.Runtime()
	res := rt.NewObject()
	_ = res.Set("status", int(o.code))
	msg, errV := goja.Null(), goja.Null()
	var err error
	switch {
	case o.resp != nil:
		if msg, err = c.mi.toJS(o.resp, protojson.MarshalOptions{EmitUnpopulated: true, Resolver: r.types}); err != nil {
			return nil, fmt.Errorf("unable to convert response object to JSON: %w", err)
		}
	case o.message != nil:
		if msg, err = c.mi.parse(o.message); err != nil {
			return nil, err
		}
	}
	if o.errJSON != nil {
		if errV, err = c.mi.parse(o.errJSON); err != nil {
			return nil, err
		}
	}
	_ = res.Set("message", msg)
	_ = res.Set("error", errV)
	_ = res.Set("headers", mdObject(rt, o.headers))
	_ = res.Set("trailers", mdObject(rt, o.trailers))
	return res, nil
}

// mdObject is metadata as a JavaScript object of arrays of strings.
func mdObject(rt *goja.Runtime, md metadata.MD) *goja.Object {
	o := rt.NewObject()
	for k, vs := range md {
		a := make([]any, len(vs))
		for i, v := range vs {
			a[i] = v
		}
		_ = o.Set(k, rt.NewArray(a...))
	}
	return o
}

// invoke(method, request, params) makes a unary call and returns its Response.
func (c *client) invoke(call goja.FunctionCall) goja.Value {
	rt := c.mi.vu.Runtime()
	r, st, err := c.prepare("invoke", call.Argument(0).String(), call.Argument(1), call.Argument(2), true)
	if err != nil {
		throw(rt, err)
	}
	o := r.do(c.mi.vu.Context(), c.conn, dynamicpb.NewMessage(r.md.Output()))
	res, err := c.finish(st, r, o)
	if err != nil {
		throw(rt, err)
	}
	return res
}

// asyncInvoke(method, request, params) makes the call on a goroutine and returns a Promise
// of its Response, resolved on the VU's event loop.
func (c *client) asyncInvoke(call goja.FunctionCall) goja.Value {
	rt := c.mi.vu.Runtime()
	p, resolve, reject := rt.NewPromise()
	r, st, err := c.prepare("asyncInvoke", call.Argument(0).String(), call.Argument(1), call.Argument(2), true)
	if err != nil {
		_ = reject(jsError(rt, err))
		return rt.ToValue(p)
	}
	enqueue := c.mi.vu.RegisterCallback()
	ctx, conn := c.mi.vu.Context(), c.conn
	go func() {
		o := r.do(ctx, conn, dynamicpb.NewMessage(r.md.Output()))
		enqueue(func() error {
			res, err := c.finish(st, r, o)
			if err != nil {
				return reject(jsError(rt, err))
			}
			return resolve(res)
		})
	}()
	return rt.ToValue(p)
}

// healthCheck([service]) calls grpc.health.v1.Health/Check. Its Response's message is
// {status: grpc.HealthCheck*}; a service the server does not know (NotFound) reads as
// HealthCheckServiceUnknown.
func (c *client) healthCheck(call goja.FunctionCall) goja.Value {
	rt := c.mi.vu.Runtime()
	st := c.mi.vu.State()
	if st == nil {
		throw(rt, errors.New("healthCheck in the init context is not supported"))
	}
	if c.conn == nil {
		throw(rt, errors.New("no gRPC connection, you must call connect first"))
	}
	svc := ""
	if v := call.Argument(0); !modules.IsNullish(v) {
		svc = v.String()
	}
	// discard: the message is {status: number}, made below, not the protojson form (a name).
	r := &rpc{method: healthMethod, req: &healthpb.HealthCheckRequest{Service: svc}, meta: metadata.MD{},
		timeout: defaultTimeout, types: c.types, tags: c.callTags(st, healthMethod, nil), discard: true}
	resp := &healthpb.HealthCheckResponse{}
	o := r.do(c.mi.vu.Context(), c.conn, resp)
	if o.code == codes.OK || o.code == codes.NotFound {
		s := resp.GetStatus()
		if o.code == codes.NotFound {
			s = healthpb.HealthCheckResponse_SERVICE_UNKNOWN
		}
		o.message = []byte(`{"status":` + strconv.Itoa(int(s)) + `}`)
	}
	res, err := c.finish(st, r, o)
	if err != nil {
		throw(rt, err)
	}
	return res
}

// countingConn adds a connection's traffic to the VU's byte counters.
type countingConn struct {
	net.Conn
	b *modules.ByteCounter
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.b.Received.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.b.Sent.Add(int64(n))
	return n, err
}
