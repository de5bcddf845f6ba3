"""files and upload sessions"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("mime_type", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256_hex", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("api_version", sa.String(16), nullable=False),
        sa.Column("blob_key", sa.String(64), nullable=False),
        sa.Column("create_time", sa.DateTime, nullable=False),
        sa.Column("update_time", sa.DateTime, nullable=False),
        sa.Column("expiration_time", sa.DateTime, nullable=False, index=True),
        sa.Column("video_duration_s", sa.Float, nullable=True),
        sa.Column("error_code", sa.Integer, nullable=True),
        sa.Column("error_message", sa.String(1024), nullable=True),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("file_id", sa.String(40), nullable=False),
        sa.Column("display_name", sa.String(512), nullable=False),
        sa.Column("mime_type", sa.String(255), nullable=False),
        sa.Column("declared_size", sa.BigInteger, nullable=True),
        sa.Column("api_version", sa.String(16), nullable=False),
        sa.Column("create_time", sa.DateTime, nullable=False),
        sa.Column("expiration_time", sa.DateTime, nullable=False, index=True),
        sa.Column("finalized", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("uploads")
    op.drop_table("files")
