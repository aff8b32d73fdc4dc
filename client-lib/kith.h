/* kith.h — libkith, the client library of the kith agent: include only this */
#pragma once

#define __KITH_H_INSIDE__

#include "kith-client-error.h"
#include "kith-client-plugin.h"
#include "kith-client.h"

#undef __KITH_H_INSIDE__
