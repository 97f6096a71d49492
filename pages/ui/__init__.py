"""What the page scripts share (helpers, not pages: Streamlit runs only the scripts directly in pages/)."""
