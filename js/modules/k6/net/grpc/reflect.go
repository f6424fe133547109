package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	gogrpc "google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// reflectFiles asks the server, by the server reflection protocol (grpc.reflection.v1),
// for the files that define its services and every file they import.
func reflectFiles(ctx context.Context, conn *gogrpc.ClientConn, md map[string]string) (*descriptorpb.FileDescriptorSet, error) {
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ctx, metadata.New(md)))
	defer cancel()
	st, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	ask := func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
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
	res, err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
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
