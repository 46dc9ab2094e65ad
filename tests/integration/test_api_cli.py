"""The AWS CLI (`aws machinelearning ... --endpoint-url`) against the live server, unchanged.

The CLI runs as a subprocess with an access key in its environment and empty configuration and
credentials files, so nothing of this machine's AWS setup takes part; its JSON output is parsed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from api_server import SHARED_DATA_ROOT, ApiServer, ApiUser, banking_bucket

pytestmark = [pytest.mark.integration]

AWS = Path(sys.executable).parent / "aws"
DATA_SOURCE_ID = "ds-cli.banking"


@pytest.fixture(scope="module")
def owner(api_users: tuple[ApiUser, ApiUser]) -> ApiUser:
    return api_users[0]


@pytest.fixture(scope="module")
def datasource(ml_client: Callable[..., Any], owner: ApiUser, s3_client: Any) -> str:
    bucket = banking_bucket(s3_client)
    ml_client(owner).create_data_source_from_s3(
        DataSourceId=DATA_SOURCE_ID,
        DataSourceName="banking from the CLI test",
        DataSpec={
            "DataLocationS3": f"s3://{bucket}/data/banking-batch.csv",
            "DataSchema": (SHARED_DATA_ROOT / "banking-batch.csv.schema").read_text(),
        },
    )
    return DATA_SOURCE_ID


def aws(
    server: ApiServer, user: ApiUser, tmp_path: Path, *arguments: str, secret: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`aws machinelearning <arguments> --endpoint-url <server>` with only the user's key."""
    if not AWS.exists():
        pytest.skip(f"the AWS CLI is not installed in the virtualenv ({AWS})")
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("")
    credentials.write_text("")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        AWS_ACCESS_KEY_ID=user.access_key_id,
        AWS_SECRET_ACCESS_KEY=secret or user.secret_access_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_MAX_ATTEMPTS="1",
    )
    return subprocess.run(
        [str(AWS), "machinelearning", *arguments, "--endpoint-url", server.url, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_describe_data_sources_lists_the_users_datasource(
    api_server: ApiServer, owner: ApiUser, datasource: str, tmp_path: Path
) -> None:
    done = aws(api_server, owner, tmp_path, "describe-data-sources")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["Results"]
    assert datasource in {result["DataSourceId"] for result in results}


def test_describe_data_sources_takes_a_filter(
    api_server: ApiServer, owner: ApiUser, datasource: str, tmp_path: Path
) -> None:
    done = aws(
        api_server,
        owner,
        tmp_path,
        "describe-data-sources",
        "--filter-variable",
        "Name",
        "--eq",
        "banking from the CLI test",
    )
    assert done.returncode == 0, done.stderr
    assert [r["DataSourceId"] for r in json.loads(done.stdout)["Results"]] == [datasource]


def test_get_data_source_returns_it(
    api_server: ApiServer, owner: ApiUser, datasource: str, tmp_path: Path
) -> None:
    done = aws(
        api_server, owner, tmp_path, "get-data-source", "--data-source-id", datasource, "--verbose"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["DataSourceId"] == datasource
    assert answer["Name"] == "banking from the CLI test"
    assert answer["Status"] in ("PENDING", "INPROGRESS", "COMPLETED")
    assert isinstance(answer["CreatedAt"], int | float)  # epoch seconds, as the CLI prints them
    assert json.loads(answer["DataSourceSchema"])["dataFileContainsHeader"] is True


def test_a_wrong_secret_fails_the_cli_with_aws_error_code(
    api_server: ApiServer, owner: ApiUser, tmp_path: Path
) -> None:
    done = aws(api_server, owner, tmp_path, "describe-data-sources", secret="w" * 40)
    assert done.returncode != 0
    assert "InvalidSignatureException" in done.stderr


def test_get_data_source_of_an_unknown_id_fails_with_resource_not_found(
    api_server: ApiServer, owner: ApiUser, tmp_path: Path
) -> None:
    done = aws(api_server, owner, tmp_path, "get-data-source", "--data-source-id", "ds-none")
    assert done.returncode != 0
    assert "ResourceNotFoundException" in done.stderr
