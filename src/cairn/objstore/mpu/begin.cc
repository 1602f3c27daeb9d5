// Begin: create the multipart upload and write its session (with presigned URLs if asked).
#include <chrono>
#include <string>
#include <utility>

#include "cairn/objstore/mpu/coordinator.h"
#include "cairn/objstore/s3/addressing.h"
#include "cairn/objstore/s3/signer.h"

namespace cairn::objstore::mpu {
namespace {

// A presigned PUT of `key` (with `query`, e.g. partNumber and uploadId) valid for `expires`.
// Only Host is signed, so the uploader may add Content-MD5 (RGW and AWS accept it unsigned).
Result<std::string> PresignPut(const s3::S3Settings& settings, const s3::SigningKey& signing_key,
                               const s3::SigningTime& time, std::chrono::seconds expires,
                               const std::string& bucket, const std::string& key,
                               s3::QueryList query) {
  CAIRN_ASSIGN_OR_RETURN(s3::S3Target target, s3::ResolveTarget(settings, bucket, key));
  s3::SignableRequest request;
  request.method = "PUT";
  request.path = target.path;
  request.query = std::move(query);
  request.headers.emplace_back("host", target.host);
  request.payload_sha256_hex = std::string(s3::kUnsignedPayload);
  CAIRN_ASSIGN_OR_RETURN(
      s3::PresignedUrl url,
      s3::PresignUrl(request, settings.credentials, s3::SigningScope{settings.region, "s3"}, time,
                     expires, signing_key));
  return target.url + "?" + url.query;
}

Status Presign(const s3::S3Settings& settings, int64_t now, Session* session) {
  CAIRN_ASSIGN_OR_RETURN(s3::SigningTime time, s3::SigningTime::FromUnixSeconds(now));
  const s3::SigningKey signing_key = s3::DeriveSigningKey(settings.credentials.secret_access_key,
                                                          time.date(), settings.region, "s3");
  const std::chrono::seconds expires(session->deadline - now);
  const PartPlan plan = session->plan();
  for (int w = 0; w < session->workers; ++w) {
    PresignedWorker urls;
    CAIRN_ASSIGN_OR_RETURN(urls.head_url, PresignPut(settings, signing_key, time, expires,
                                                     session->bucket, session->HeadKey(w), {}));
    const WorkerSlots slots = plan.Slots(w);
    for (int part = slots.first_part; part <= slots.last_part; ++part) {
      CAIRN_ASSIGN_OR_RETURN(
          std::string url,
          PresignPut(settings, signing_key, time, expires, session->bucket, session->key,
                     {{"partNumber", std::to_string(part)}, {"uploadId", session->upload_id}}));
      urls.part_urls.push_back(std::move(url));
    }
    CAIRN_ASSIGN_OR_RETURN(
        urls.head_part_url,
        PresignPut(
            settings, signing_key, time, expires, session->bucket, session->key,
            {{"partNumber", std::to_string(slots.head_part)}, {"uploadId", session->upload_id}}));
    session->presigned.push_back(std::move(urls));
  }
  return Status();
}

}  // namespace

Result<Session> Begin(s3::S3Client* client, io::Env* env, const BeginOptions& options) {
  const std::string what = "begin " + s3::S3Uri(options.bucket, options.key);
  Result<PartPlan> plan = PartPlan::Create(options.workers, options.max_parts);
  if (!plan.ok()) return plan.status().WithContext(what);
  if (options.min_part_size == 0 || options.part_size < options.min_part_size ||
      options.part_size > 5 * kGiB - options.min_part_size) {
    return InvalidArgumentError(what + ": the part size " + std::to_string(options.part_size) +
                                " must lie between the minimum part size " +
                                std::to_string(options.min_part_size) +
                                " and 5 GiB less that minimum");
  }
  if (options.deadline_seconds <= 0) {
    return InvalidArgumentError(what + ": the deadline must be in the future");
  }
  if (options.presign && options.deadline_seconds > s3::kMaxPresignExpiry.count()) {
    return InvalidArgumentError(what +
                                ": presigned URLs last at most 7 days; choose a shorter "
                                "--deadline");
  }
  if (options.key.empty()) return InvalidArgumentError(what + ": the object needs a key");
  s3::PutOptions put;
  put.content_type = options.content_type;
  Result<std::string> upload_id = client->CreateMultipartUpload(options.bucket, options.key, put);
  if (!upload_id.ok()) return upload_id.status().WithContext(what);

  const s3::S3Settings& settings = client->settings();
  Session session;
  session.endpoint = settings.endpoint_url;
  session.region = settings.region;
  session.addressing = settings.addressing;
  session.bucket = options.bucket;
  session.key = options.key;
  session.upload_id = *upload_id;
  session.workers = options.workers;
  session.max_parts = options.max_parts;
  session.part_size = options.part_size;
  session.min_part_size = options.min_part_size;
  session.created = env->NowUnixSeconds();
  session.deadline = session.created + options.deadline_seconds;
  session.temp_prefix = TempPrefixFor(options.key, *upload_id);
  if (options.presign) {
    Status presigned = Presign(settings, session.created, &session);
    if (!presigned.ok()) {
      client->AbortMultipartUpload(options.bucket, options.key, *upload_id).IgnoreError();
      return presigned.WithContext(what + " (the upload was aborted)");
    }
  }
  return session;
}

}  // namespace cairn::objstore::mpu
