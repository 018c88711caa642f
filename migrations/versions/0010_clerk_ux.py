"""Clerk UX: agencies get their 统一社会信用代码, a settings table holds the administrator's choices (issuing
without a photo), and the seeded reference notes that were written in English are put into Chinese.

Revision ID: 0010_clerk_ux
Revises: 0008_accounts
Create Date: 2026-12-04 19:00:00

Only rows still holding the exact English text loaded from seed_data/ are rewritten: an edit is never touched.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_clerk_ux'
down_revision = '0012_oversight'
branch_labels = None
depends_on = None

OCCUPATION_CONFIDENCE = {
    "two sources": "两个来源互证",
    "one public dataset (unofficial copy of the 2022 catalogue)": "单一公开数据集（2022年版大典的非官方副本）",
    "one dataset + weak second": "一个数据集，另有较弱旁证",
}
# Pieces of the seeded occupation sources, replaced in order.
OCCUPATION_SOURCE_PARTS = [
    ("public dataset of the 2022 职业分类大典 (GitHub Mev0000/Job_Agent, data/raw_jd)",
     "2022年版职业分类大典公开数据集（Mev0000/Job_Agent 仓库 data/raw_jd 目录）"),
    ("; dataset GitHub Mev0000/Job_Agent data/raw_jd/2022年职业分类大典（整体修订）.csv @b296ce7",
     "；数据文件 Mev0000/Job_Agent data/raw_jd/2022年职业分类大典（整体修订）.csv，版本 b296ce7"),
    ("; levels weak (scraped training ad)", "；等级信息旁证较弱（取自培训广告）"),
    ("; marker S; std code cited via ", "；标识 S；标准编号引自 "),
    ("; marker S", "；标识 S"),
    ("; marker L", "；标识 L"),
    ("; 2015-era name 公共营养师 (weak)", "；2015年版名称为公共营养师（旁证较弱）"),
    ("; weak code-repo fixture agrees", "；另有代码仓库中的测试数据与之一致（旁证较弱）"),
    ("; definition lists 年画", "；职业定义中列有年画"),
]
TARGET_BASELINES = {
    "3.9 (2016-2020 cumulative)": "3.9（2016—2020年累计）",
    "0.4038 (2016-2020 cumulative persons)": "0.4038（2016—2020年累计人数）",
}


def chinese_target_source(text: str) -> str:
    """"plan table 1 row 14" → "规划表1第14行"; "plan chapter 1 section 4 (一)" → "规划第1章第4节（一）"."""
    import re

    if match := re.fullmatch(r"plan table (\d+) row (\d+)", text):
        return f"规划表{match[1]}第{match[2]}行"
    if match := re.fullmatch(r"plan chapter (\d+) section (\d+)(?: \((.+)\))?", text):
        return f"规划第{match[1]}章第{match[2]}节" + (f"（{match[3]}）" if match[3] else "")
    return text


def chinese_occupation_source(text: str) -> str:
    for old, new in OCCUPATION_SOURCE_PARTS:
        text = text.replace(old, new)
    return text


def upgrade():
    with op.batch_alter_table('agencies') as batch_op:
        batch_op.add_column(sa.Column('credit_code', sa.String(length=18), nullable=True))
    op.create_table('settings',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    connection = op.get_bind()
    occupations = sa.table('occupations', sa.column('id'), sa.column('confidence'), sa.column('source'))
    for row in connection.execute(sa.select(occupations.c.id, occupations.c.confidence, occupations.c.source)):
        confidence = OCCUPATION_CONFIDENCE.get(row.confidence, row.confidence)
        source = chinese_occupation_source(row.source or "")
        if (confidence, source) != (row.confidence, row.source or ""):
            connection.execute(occupations.update().where(occupations.c.id == row.id)
                               .values(confidence=confidence, source=source))
    indicators = sa.table('indicators', sa.column('key'), sa.column('baseline_2020'), sa.column('source'))
    for row in connection.execute(sa.select(indicators.c.key, indicators.c.baseline_2020, indicators.c.source)):
        baseline = TARGET_BASELINES.get(row.baseline_2020, row.baseline_2020)
        source = chinese_target_source(row.source or "")
        if (baseline, source) != (row.baseline_2020, row.source or ""):
            connection.execute(indicators.update().where(indicators.c.key == row.key)
                               .values(baseline_2020=baseline, source=source))


def downgrade():
    op.drop_table('settings')
    with op.batch_alter_table('agencies') as batch_op:
        batch_op.drop_column('credit_code')
