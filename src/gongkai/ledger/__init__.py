"""The work behind the report: the 依申请公开 application ledger, the 主动公开 register and the appeals
register, whose records write the annual report's tables 二, 三 and 四.

Plain functions over plain data (models.py); the database side is gongkai.ledger.store.
"""
