"""Wire models of the Gemini REST protocol: camelCase out, camelCase or snake_case in, no logic."""
