//lint:file-ignore SA1019 grpc.reflection.v1alpha is deprecated; it is spoken only with servers that have nothing newer

package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	gogrpc "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	rpbalpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// reflectionStream is one server reflection exchange in grpc.reflection.v1's types.
type reflectionStream interface {
	Send(*rpb.ServerReflectionRequest) error
	Recv() (*rpb.ServerReflectionResponse, error)
	CloseSend() error
}

// alphaStream speaks grpc.reflection.v1alpha, whose messages are v1's on the wire: they
// cross by marshalling.
type alphaStream struct {
	s gogrpc.BidiStreamingClient[rpbalpha.ServerReflectionRequest, rpbalpha.ServerReflectionResponse]
}

func (a alphaStream) Send(req *rpb.ServerReflectionRequest) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	var areq rpbalpha.ServerReflectionRequest
	if err := proto.Unmarshal(b, &areq); err != nil {
		return err
	}
	return a.s.Send(&areq)
}

func (a alphaStream) Recv() (*rpb.ServerReflectionResponse, error) {
	ares, err := a.s.Recv()
	if err != nil {
		return nil, err
	}
	b, err := proto.Marshal(ares)
	if err != nil {
		return nil, err
	}
	var res rpb.ServerReflectionResponse
	return &res, proto.Unmarshal(b, &res)
}

func (a alphaStream) CloseSend() error { return a.s.CloseSend() }

// reflectFiles asks the server, by the server reflection protocol (grpc.reflection.v1,
// else v1alpha), for the files that define its services and every file they import.
func reflectFiles(ctx context.Context, conn *gogrpc.ClientConn, md map[string]string) (*descriptorpb.FileDescriptorSet, error) {
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ctx, metadata.New(md)))
	defer cancel()
	list := &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}}
	var st reflectionStream
	st, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	res, err := askReflection(st, list)
	if status.Code(err) == codes.Unimplemented {
		as, aerr := rpbalpha.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if aerr != nil {
			return nil, aerr
		}
		st = alphaStream{as}
		if res, aerr = askReflection(st, list); aerr == nil || status.Code(aerr) != codes.Unimplemented {
			err = aerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	ask := func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
		return askReflection(st, req)
	}
	files := map[string]*descriptorpb.FileDescriptorProto{}
	var order []string
	addFiles := func(res *rpb.ServerReflectionResponse) error {
		fdr := res.GetFileDescriptorResponse()
		if fdr == nil {
			return errors.New("the server answered without file descriptors")
		}
		for _, b := range fdr.GetFileDescriptorProto() {
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(b, fd); err != nil {
				return fmt.Errorf("a file descriptor: %w", err)
			}
			if _, ok := files[fd.GetName()]; !ok {
				files[fd.GetName()] = fd
				order = append(order, fd.GetName())
			}
		}
		return nil
	}
	for _, svc := range res.GetListServicesResponse().GetService() {
		if strings.HasPrefix(svc.GetName(), "grpc.reflection.") {
			continue
		}
		res, err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc.GetName()}})
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", svc.GetName(), err)
		}
		if err := addFiles(res); err != nil {
			return nil, fmt.Errorf("service %s: %w", svc.GetName(), err)
		}
	}
	// Files the server left out of its answers are asked for by name.
	for i := 0; i < len(order); i++ {
		for _, dep := range files[order[i]].GetDependency() {
			if _, ok := files[dep]; ok {
				continue
			}
			res, err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: dep}})
			if err != nil {
				return nil, fmt.Errorf("file %s: %w", dep, err)
			}
			if err := addFiles(res); err != nil {
				return nil, fmt.Errorf("file %s: %w", dep, err)
			}
		}
	}
	_ = st.CloseSend()
	set := &descriptorpb.FileDescriptorSet{}
	for _, name := range order {
		set.File = append(set.File, files[name])
	}
	return set, nil
}

// askReflection sends one request and reads its answer; a reflection error answer is an
// error.
func askReflection(st reflectionStream, req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
	if err := st.Send(req); err != nil {
		if errors.Is(err, io.EOF) { // the server ended the stream: Recv has its status
			_, err = st.Recv()
		}
		return nil, err
	}
	res, err := st.Recv()
	if err != nil {
		return nil, err
	}
	if e := res.GetErrorResponse(); e != nil {
		return nil, fmt.Errorf("server reflection error %d: %s", e.GetErrorCode(), e.GetErrorMessage())
	}
	return res, nil
}
