// S3 XML cost per page and per batch. `cairn obj ls -r` and `rm -r` over millions of keys parse a
// 1,000-entry ListObjectsV2 page per request and build a 1,000-key DeleteObjects body per batch,
// so these are client CPU per 1,000 keys; the error path is measured too because a 503 storm
// parses an <Error> body per retried request.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cairn/objstore/s3/xml.h"

namespace cairn::objstore::s3 {
namespace {

// A full ListObjectsV2 page as RGW writes it: 1,000 entries with owner and type elements.
std::string ThousandEntryPage(bool url_encoded) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>cairn-bench</Name>"
      "<Prefix>datasets/run42/</Prefix><NextContinuationToken>datasets/run42/part-00999.parquet"
      "</NextContinuationToken><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys>"
      "<IsTruncated>true</IsTruncated>";
  if (url_encoded) body += "<EncodingType>url</EncodingType>";
  for (int i = 0; i < 1000; ++i) {
    std::string n = std::to_string(100000 + i).substr(1);
    body += "<Contents><Key>datasets";
    body += url_encoded ? "%2Frun42%2Fpart%20" : "/run42/part-";
    body += n +
            ".parquet</Key><LastModified>2024-05-01T12:34:56.789Z</LastModified>"
            "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e-12&quot;</ETag><Size>" +
            std::to_string(i * 262144) +
            "</Size><StorageClass>STANDARD</StorageClass><Owner><ID>test$tester</ID>"
            "<DisplayName>Tester</DisplayName></Owner><Type>Normal</Type></Contents>";
  }
  body += "</ListBucketResult>";
  return body;
}

void BM_ParseListObjectsV2(benchmark::State& state) {
  const std::string body = ThousandEntryPage(state.range(0) != 0);
  for (auto _ : state) {
    Result<ListObjectsV2Page> page = ParseListObjectsV2(body);
    benchmark::DoNotOptimize(page);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ParseListObjectsV2)->Arg(0)->Arg(1)->ArgNames({"url_encoded"});

void BM_BuildDeleteObjects(benchmark::State& state) {
  std::vector<ObjectIdentifier> objects;
  for (int i = 0; i < 1000; ++i) {
    objects.push_back({"datasets/run42/part-" + std::to_string(i) + ".parquet & co <x>", ""});
  }
  for (auto _ : state) {
    Result<std::string> body = BuildDeleteObjects(objects, DeleteReport::kErrorsOnly);
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_BuildDeleteObjects);

void BM_BuildCompleteMultipartUpload(benchmark::State& state) {
  std::vector<CompletedPart> parts;
  for (int32_t n = 1; n <= 10000; ++n) parts.push_back({n, "\"d41d8cd98f00b204e9800998ecf8427e\""});
  for (auto _ : state) {
    Result<std::string> body = BuildCompleteMultipartUpload(parts);
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_BuildCompleteMultipartUpload);

void BM_ParseErrorToStatus(benchmark::State& state) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please "
      "reduce your request rate.</Message><RequestId>tx00000a1b2c3d4e5f60718-0065a1b2c3-1234"
      "</RequestId><HostId>1234-default-default</HostId></Error>";
  for (auto _ : state) {
    Status status = S3ErrorToStatus(503, ParseError(body), "upload part 3 of s3://b/k");
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_ParseErrorToStatus);

}  // namespace
}  // namespace cairn::objstore::s3

BENCHMARK_MAIN();
