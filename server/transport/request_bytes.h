// A raw request's bytes as the service reads them (service::RequestBytes):
// the slices gRPC received, taken over from the call's ByteBuffer so that
// the last pass over them can free each slice once it has read past it.
// A 5,000-node request is ~570 slices of up to 64 KB; freeing them as the
// pods are converted keeps the request and its converted snapshot from
// being resident at once.
#ifndef DSD_SERVER_TRANSPORT_REQUEST_BYTES_H_
#define DSD_SERVER_TRANSPORT_REQUEST_BYTES_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "google/protobuf/io/zero_copy_stream.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "server/service/scheduler_service.h"

namespace dsd::transport {

// The slices of one request.
class RequestSlices {
 public:
  // Takes the bytes out of `buffer` (left empty) without copying them. An
  // invalid buffer gives no bytes.
  explicit RequestSlices(grpc::ByteBuffer& buffer);

  // A stream over the bytes; with `release`, each slice is freed once the
  // stream has moved past it (the ZeroCopyInputStream contract lets a
  // buffer go at the next call to Next), so only one pass can have it.
  std::unique_ptr<google::protobuf::io::ZeroCopyInputStream> Open(bool release);

  size_t size() const { return size_; }
  // Frees what is left.
  void Clear() {
    slices_.clear();
    size_ = 0;
  }

 private:
  class Stream;

  std::vector<grpc::Slice> slices_;
  size_t size_ = 0;
};

// The service's view of `slices` (which must outlive its use): the last
// pass frees the slices behind it, `release` drops what is left.
service::RequestBytes BytesOf(const std::shared_ptr<RequestSlices>& slices);

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_REQUEST_BYTES_H_
