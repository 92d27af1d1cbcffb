// RequestSlices: a received request's slices read as one stream, twice,
// the second time freeing each slice behind it. Whatever the slicing, both
// passes read the same bytes, and the two-pass request reader gets from
// them what protobuf parses from the whole.
#include "server/transport/request_bytes.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/io/coded_stream.h"
#include "gtest/gtest.h"
#include "server/convert/wire.h"
#include "tests/testing/status_matchers.h"
#include "tests/transport/test_util.h"

namespace dsd::transport {
namespace {

using ::dsd::testing::IsOk;

using ::dsd::transport::testing::ValidDecideRequest;

// `bytes` cut into slices of `slice_size` (the last one shorter).
grpc::ByteBuffer Sliced(const std::string& bytes, size_t slice_size) {
  std::vector<grpc::Slice> slices;
  for (size_t at = 0; at < bytes.size(); at += slice_size) {
    slices.emplace_back(bytes.substr(at, slice_size));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

// Every byte of `stream`, read with ReadRaw (so across slices) and Skip.
std::string ReadAll(google::protobuf::io::ZeroCopyInputStream& stream,
                    size_t total) {
  google::protobuf::io::CodedInputStream in(&stream);
  std::string out;
  while (out.size() < total) {
    // Uneven reads, and a skip-and-reread to exercise BackUp and Skip.
    const size_t n = std::min<size_t>(total - out.size(), 1 + out.size() % 13);
    std::string piece;
    if (!in.ReadString(&piece, static_cast<int>(n))) break;
    out += piece;
  }
  return out;
}

TEST(RequestSlicesTest, BothPassesReadEveryByteWhateverTheSlicing) {
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += static_cast<char>(i * 7 % 251);
  for (const size_t slice_size :
       {size_t{1}, size_t{7}, size_t{64}, size_t{4096}, size_t{5000}}) {
    SCOPED_TRACE("slices of " + std::to_string(slice_size));
    grpc::ByteBuffer buffer = Sliced(bytes, slice_size);
    RequestSlices slices(buffer);
    EXPECT_FALSE(buffer.Valid()) << "the slices are taken over";
    EXPECT_EQ(slices.size(), bytes.size());
    EXPECT_EQ(ReadAll(*slices.Open(/*release=*/false), bytes.size()), bytes);
    EXPECT_EQ(ReadAll(*slices.Open(/*release=*/true), bytes.size()), bytes);
  }
}

TEST(RequestSlicesTest, SkipAndBackUpCrossSlices) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes += static_cast<char>('a' + i % 26);
  // Slices of 100 bytes (gRPC merges slices short enough to be inlined).
  grpc::ByteBuffer buffer = Sliced(bytes, 100);
  RequestSlices slices(buffer);
  auto stream = slices.Open(/*release=*/true);
  const void* data = nullptr;
  int size = 0;
  const auto at = [](const void* p, int n) {
    return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  };
  ASSERT_TRUE(stream->Skip(150));  // into the second slice
  ASSERT_TRUE(stream->Next(&data, &size));
  EXPECT_EQ(at(data, size), bytes.substr(150, 50));
  stream->BackUp(20);
  EXPECT_EQ(stream->ByteCount(), 180);
  ASSERT_TRUE(stream->Next(&data, &size));
  EXPECT_EQ(at(data, size), bytes.substr(180, 20));
  ASSERT_TRUE(stream->Skip(250));  // over two slice boundaries
  ASSERT_TRUE(stream->Next(&data, &size));
  EXPECT_EQ(at(data, size), bytes.substr(450, 50));
  EXPECT_EQ(stream->ByteCount(), 500);
  EXPECT_FALSE(stream->Skip(501));  // past the end
}

TEST(RequestSlicesTest, AnEmptyOrInvalidBufferGivesNoBytes) {
  grpc::ByteBuffer invalid;
  RequestSlices slices(invalid);
  EXPECT_EQ(slices.size(), 0u);
  const void* data = nullptr;
  int size = 0;
  EXPECT_FALSE(slices.Open(/*release=*/true)->Next(&data, &size));
}

TEST(RequestSlicesTest, TheRequestReaderReadsWhatProtobufParses) {
  v1::DecideRequest request = ValidDecideRequest();
  for (int i = 0; i < 20; ++i) {
    v1::Pod& pod = *request.mutable_snapshot()->add_pods();
    pod.set_namespace_("default");
    pod.set_name("pod-" + std::to_string(i));
    pod.set_uid("uid-" + std::to_string(i));
  }
  const std::string bytes = request.SerializeAsString();
  for (const size_t slice_size : {size_t{3}, size_t{17}, size_t{1000}}) {
    SCOPED_TRACE("slices of " + std::to_string(slice_size));
    grpc::ByteBuffer buffer = Sliced(bytes, slice_size);
    auto slices = std::make_shared<RequestSlices>(buffer);
    const service::RequestBytes request_bytes = BytesOf(slices);
    v1::DecideRequest head;
    v1::Snapshot objects;
    const absl::StatusOr<int> count =
        convert::ReadRequestHead(request_bytes.open, head, objects);
    ASSERT_THAT(count, IsOk());
    convert::WirePods pods(request_bytes.open, *count);
    std::vector<std::string> names;
    while (const v1::Pod* pod = pods.Next()) names.push_back(pod->name());
    EXPECT_THAT(pods.error(), IsOk());
    ASSERT_EQ(static_cast<int>(names.size()), request.snapshot().pods_size());
    for (size_t i = 0; i < names.size(); ++i) {
      EXPECT_EQ(names[i], request.snapshot().pods(static_cast<int>(i)).name());
    }
    EXPECT_EQ(objects.nodes_size(), request.snapshot().nodes_size());
    EXPECT_EQ(head.now().seconds(), request.now().seconds());
    request_bytes.release();
    EXPECT_EQ(slices->size(), 0u);
  }
}

}  // namespace
}  // namespace dsd::transport
