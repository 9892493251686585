#include "proxy/accounting/tokenizer.h"
