# Placeholder: the rank files are embedded here (see tokenizer.h).
