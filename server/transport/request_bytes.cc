#include "server/transport/request_bytes.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

namespace dsd::transport {

class RequestSlices::Stream final
    : public google::protobuf::io::ZeroCopyInputStream {
 public:
  Stream(std::vector<grpc::Slice>& slices, bool release)
      : slices_(slices), release_(release) {}

  bool Next(const void** data, int* size) override {
    if (backed_up_ > 0) {  // the tail of the current slice again
      const grpc::Slice& slice = slices_[current_];
      *data = slice.begin() + (slice.size() - backed_up_);
      *size = static_cast<int>(backed_up_);
      byte_count_ += static_cast<int64_t>(backed_up_);
      backed_up_ = 0;
      return true;
    }
    if (started_ && release_) Release(slices_[current_]);
    const size_t next = started_ ? current_ + 1 : 0;
    if (next >= slices_.size()) return false;
    started_ = true;
    current_ = next;
    const grpc::Slice& slice = slices_[current_];
    *data = slice.begin();
    *size = static_cast<int>(slice.size());
    byte_count_ += static_cast<int64_t>(slice.size());
    return true;
  }

  void BackUp(int count) override {
    backed_up_ = static_cast<size_t>(count);
    byte_count_ -= count;
  }

  bool Skip(int count) override {
    const void* data = nullptr;
    int size = 0;
    while (count > 0) {
      if (!Next(&data, &size)) return false;
      if (size > count) {
        BackUp(size - count);
        return true;
      }
      count -= size;
    }
    return true;
  }

  int64_t ByteCount() const override { return byte_count_; }

 private:
  // Frees `slice`; every kTrimEvery bytes, gives the freed pages back to
  // the system (they are heap chunks: a trimmed page is one the converted
  // snapshot can grow into without the resident total growing).
  void Release(grpc::Slice& slice) {
    released_ += slice.size();
    slice = grpc::Slice();
    if (released_ >= kTrimEvery) {
      malloc_trim(0);
      released_ = 0;
    }
  }
  static constexpr size_t kTrimEvery = 4u << 20;

  std::vector<grpc::Slice>& slices_;
  const bool release_;
  bool started_ = false;
  size_t current_ = 0;    // the slice Next returned last
  size_t backed_up_ = 0;  // bytes of it returned to the stream
  int64_t byte_count_ = 0;
  size_t released_ = 0;  // since the last trim
};

RequestSlices::RequestSlices(grpc::ByteBuffer& buffer) {
  if (buffer.Valid() && buffer.Dump(&slices_).ok()) {
    for (const grpc::Slice& s : slices_) size_ += s.size();
  }
  // The slices now hold the only references to the bytes.
  buffer.Clear();
  // Empty slices would make Next return empty buffers.
  std::erase_if(slices_, [](const grpc::Slice& s) { return s.size() == 0; });
}

std::unique_ptr<google::protobuf::io::ZeroCopyInputStream> RequestSlices::Open(
    bool release) {
  return std::make_unique<Stream>(slices_, release);
}

service::RequestBytes BytesOf(const std::shared_ptr<RequestSlices>& slices) {
  return {[slices](bool last) { return slices->Open(/*release=*/last); },
          [slices] { slices->Clear(); }};
}

}  // namespace dsd::transport
