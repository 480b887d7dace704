"""An independent witness of the S3 sink: boto3 (which Gale did not write)
lists a bucket page by page and downloads every object with s3transfer
(ranged GETs on several threads for a large object). It prints a JSON
manifest: boto3's version, the number of listing pages, and per object its
key, size, ETag, content type, user metadata and the file it was saved to.

    python witness.py ENDPOINT BUCKET OUTDIR PAGESIZE

The keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the region
from AWS_REGION (never from the command line).
"""
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def main():
    endpoint, bucket, out, page_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        config=Config(
            s3={"addressing_style": "path"},
            # boto3 >= 1.36 adds CRC checksums by default, which Ceph 16's
            # RADOS Gateway does not know
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    # large objects come in ranged GETs of 2 MiB on 4 threads
    transfer = TransferConfig(multipart_threshold=2 << 20, multipart_chunksize=2 << 20, max_concurrency=4)
    pages, objects = 0, []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": page_size}):
        pages += 1
        for o in page.get("Contents", []):
            key = o["Key"]
            head = s3.head_object(Bucket=bucket, Key=key)
            path = os.path.join(out, "%05d" % len(objects))
            s3.download_file(bucket, key, path, Config=transfer)
            objects.append({
                "key": key,
                "size": o["Size"],
                "etag": head["ETag"],
                "content_type": head.get("ContentType", ""),
                "metadata": head.get("Metadata", {}),
                "file": path,
            })
    json.dump({"boto3": boto3.__version__, "pages": pages, "objects": objects}, sys.stdout)


if __name__ == "__main__":
    main()
