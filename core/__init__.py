"""Gatehouse's rules, use cases and adapters. Pages and the CLI call into here; nothing here imports Streamlit."""
