// k6/experimental/streams: the readable half of the WHATWG Streams standard that k6
// documents: ReadableStream (default, not byte, streams), its default reader and controller,
// and the two queuing strategies. It follows the standard's algorithms (queue with sizes, high
// water mark, pull when the desired size is positive or a read waits, one pull at a time,
// cancel and error), written for pixelk6. Evaluated once per VU; returns the exports.
(function () {
  'use strict';

  var internal = {}; // the token that lets this file construct controllers

  function isObject(x) {
    return x !== null && (typeof x === 'object' || typeof x === 'function');
  }

  function resolved(v) {
    return Promise.resolve(v);
  }

  function rejected(e) {
    return Promise.reject(e);
  }

  // promiseCall calls f and returns a Promise of its result (a throw becomes a rejection).
  function promiseCall(f, self, arg) {
    try {
      return resolved(f.call(self, arg));
    } catch (e) {
      return rejected(e);
    }
  }

  function highWaterMark(strategy, dflt) {
    if (strategy.highWaterMark === undefined) return dflt;
    var hwm = Number(strategy.highWaterMark);
    if (hwm !== hwm || hwm < 0) throw new RangeError('highWaterMark must be a non-negative number');
    return hwm;
  }

  function CountQueuingStrategy(init) {
    if (!(this instanceof CountQueuingStrategy)) throw new TypeError("Class constructor CountQueuingStrategy cannot be invoked without 'new'");
    if (!isObject(init) || init.highWaterMark === undefined) throw new TypeError('CountQueuingStrategy: highWaterMark is required');
    Object.defineProperty(this, '_hwm', { value: Number(init.highWaterMark) });
  }
  Object.defineProperty(CountQueuingStrategy.prototype, 'highWaterMark', { get: function () { return this._hwm; } });
  Object.defineProperty(CountQueuingStrategy.prototype, 'size', { get: function () { return function size() { return 1; }; } });

  function ByteLengthQueuingStrategy(init) {
    if (!(this instanceof ByteLengthQueuingStrategy)) throw new TypeError("Class constructor ByteLengthQueuingStrategy cannot be invoked without 'new'");
    if (!isObject(init) || init.highWaterMark === undefined) throw new TypeError('ByteLengthQueuingStrategy: highWaterMark is required');
    Object.defineProperty(this, '_hwm', { value: Number(init.highWaterMark) });
  }
  Object.defineProperty(ByteLengthQueuingStrategy.prototype, 'highWaterMark', { get: function () { return this._hwm; } });
  Object.defineProperty(ByteLengthQueuingStrategy.prototype, 'size', {
    get: function () { return function size(chunk) { return chunk.byteLength; }; },
  });

  // ReadableStream(underlyingSource, strategy)
  function ReadableStream(source, strategy) {
    if (!(this instanceof ReadableStream)) throw new TypeError("Class constructor ReadableStream cannot be invoked without 'new'");
    if (source === undefined) source = {};
    if (strategy === undefined) strategy = {};
    if (source === null || !isObject(source)) throw new TypeError('ReadableStream: the underlying source must be an object');
    if (source.type !== undefined) {
      if (String(source.type) === 'bytes') throw new TypeError("ReadableStream: byte streams (type: 'bytes') are not supported");
      throw new RangeError('ReadableStream: invalid type ' + String(source.type));
    }
    var size = strategy.size;
    if (size !== undefined && typeof size !== 'function') throw new TypeError('ReadableStream: strategy.size must be a function');
    var hwm = highWaterMark(strategy, 1);
    ['start', 'pull', 'cancel'].forEach(function (m) {
      if (source[m] !== undefined && typeof source[m] !== 'function') throw new TypeError('ReadableStream: underlying source ' + m + ' must be a function');
    });

    Object.defineProperty(this, '_s', { value: { state: 'readable', reader: undefined, storedError: undefined, disturbed: false } });
    var c = new ReadableStreamDefaultController(internal);
    var st = c._c;
    st.stream = this;
    st.queue = [];
    st.queueTotalSize = 0;
    st.started = st.closeRequested = st.pullAgain = st.pulling = false;
    st.size = size === undefined ? function () { return 1; } : function (chunk) { return size.call(undefined, chunk); };
    st.hwm = hwm;
    st.pull = source.pull === undefined ? function () { return resolved(); } : function () { return promiseCall(source.pull, source, c); };
    st.cancel = source.cancel === undefined ? function () { return resolved(); } : function (r) { return promiseCall(source.cancel, source, r); };
    this._s.controller = c;

    var startResult = source.start === undefined ? undefined : source.start.call(source, c);
    resolved(startResult).then(function () {
      st.started = true;
      callPullIfNeeded(c);
    }, function (e) {
      controllerError(c, e);
    });
  }

  Object.defineProperty(ReadableStream.prototype, 'locked', {
    get: function () {
      checkStream(this);
      return this._s.reader !== undefined;
    },
  });

  ReadableStream.prototype.cancel = function (reason) {
    if (!(this instanceof ReadableStream)) return rejected(new TypeError('cancel: not a ReadableStream'));
    if (this._s.reader !== undefined) return rejected(new TypeError('cancel: the stream is locked to a reader'));
    return streamCancel(this, reason);
  };

  ReadableStream.prototype.getReader = function (options) {
    checkStream(this);
    var mode = isObject(options) ? options.mode : undefined;
    if (mode !== undefined) {
      if (String(mode) === 'byob') throw new TypeError("getReader: BYOB readers (mode: 'byob') are not supported");
      throw new RangeError('getReader: invalid mode ' + String(mode));
    }
    return new ReadableStreamDefaultReader(this);
  };

  function checkStream(s) {
    if (!(s instanceof ReadableStream)) throw new TypeError('not a ReadableStream');
  }

  function streamCancel(stream, reason) {
    var s = stream._s;
    s.disturbed = true;
    if (s.state === 'closed') return resolved(undefined);
    if (s.state === 'errored') return rejected(s.storedError);
    streamClose(stream);
    var st = s.controller._c;
    st.queue = [];
    st.queueTotalSize = 0;
    var result = st.cancel(reason);
    clearAlgorithms(st);
    return result.then(function () { return undefined; });
  }

  function streamClose(stream) {
    var s = stream._s;
    s.state = 'closed';
    var r = s.reader;
    if (r === undefined) return;
    r._r.resolveClosed();
    var reqs = r._r.requests;
    r._r.requests = [];
    reqs.forEach(function (req) { req.resolve({ value: undefined, done: true }); });
  }

  function streamError(stream, e) {
    var s = stream._s;
    s.state = 'errored';
    s.storedError = e;
    var r = s.reader;
    if (r === undefined) return;
    r._r.rejectClosed(e);
    var reqs = r._r.requests;
    r._r.requests = [];
    reqs.forEach(function (req) { req.reject(e); });
  }

  // ReadableStreamDefaultController: made by ReadableStream only.
  function ReadableStreamDefaultController(token) {
    if (token !== internal) throw new TypeError('Illegal constructor');
    Object.defineProperty(this, '_c', { value: {} });
  }

  function checkController(c) {
    if (!(c instanceof ReadableStreamDefaultController) || !c._c.stream) throw new TypeError('not a ReadableStreamDefaultController');
  }

  Object.defineProperty(ReadableStreamDefaultController.prototype, 'desiredSize', {
    get: function () {
      checkController(this);
      return desiredSize(this._c);
    },
  });

  function desiredSize(st) {
    var state = st.stream._s.state;
    if (state === 'errored') return null;
    if (state === 'closed') return 0;
    return st.hwm - st.queueTotalSize;
  }

  function canCloseOrEnqueue(st) {
    return !st.closeRequested && st.stream._s.state === 'readable';
  }

  ReadableStreamDefaultController.prototype.close = function () {
    checkController(this);
    var st = this._c;
    if (!canCloseOrEnqueue(st)) throw new TypeError('close: the stream is closed or closing');
    st.closeRequested = true;
    if (st.queue.length === 0) {
      clearAlgorithms(st);
      streamClose(st.stream);
    }
  };

  ReadableStreamDefaultController.prototype.enqueue = function (chunk) {
    checkController(this);
    var st = this._c;
    if (!canCloseOrEnqueue(st)) throw new TypeError('enqueue: the stream is closed or closing');
    var reader = st.stream._s.reader;
    if (reader !== undefined && reader._r.requests.length > 0) {
      reader._r.requests.shift().resolve({ value: chunk, done: false });
    } else {
      var size;
      try {
        size = Number(st.size(chunk));
        if (size !== size || size < 0 || size === Infinity) throw new RangeError('enqueue: the chunk size must be a finite, non-negative number');
      } catch (e) {
        controllerError(this, e);
        throw e;
      }
      st.queue.push({ chunk: chunk, size: size });
      st.queueTotalSize += size;
    }
    callPullIfNeeded(this);
  };

  ReadableStreamDefaultController.prototype.error = function (e) {
    checkController(this);
    controllerError(this, e);
  };

  function clearAlgorithms(st) {
    st.pull = function () { return resolved(); };
    st.cancel = function () { return resolved(); };
    st.size = function () { return 1; };
  }

  function controllerError(c, e) {
    var st = c._c;
    if (st.stream._s.state !== 'readable') return;
    st.queue = [];
    st.queueTotalSize = 0;
    clearAlgorithms(st);
    streamError(st.stream, e);
  }

  function shouldCallPull(st) {
    if (!canCloseOrEnqueue(st) || !st.started) return false;
    var reader = st.stream._s.reader;
    if (reader !== undefined && reader._r.requests.length > 0) return true;
    return desiredSize(st) > 0;
  }

  function callPullIfNeeded(c) {
    var st = c._c;
    if (!shouldCallPull(st)) return;
    if (st.pulling) {
      st.pullAgain = true;
      return;
    }
    st.pulling = true;
    st.pull().then(function () {
      st.pulling = false;
      if (st.pullAgain) {
        st.pullAgain = false;
        callPullIfNeeded(c);
      }
    }, function (e) {
      controllerError(c, e);
    });
  }

  // ReadableStreamDefaultReader(stream) locks the stream.
  function ReadableStreamDefaultReader(stream) {
    if (!(this instanceof ReadableStreamDefaultReader)) throw new TypeError("Class constructor ReadableStreamDefaultReader cannot be invoked without 'new'");
    if (!(stream instanceof ReadableStream)) throw new TypeError('ReadableStreamDefaultReader: the argument must be a ReadableStream');
    if (stream._s.reader !== undefined) throw new TypeError('ReadableStreamDefaultReader: the stream is already locked to a reader');
    var r = { stream: stream, requests: [] };
    Object.defineProperty(this, '_r', { value: r });
    newClosed(r);
    stream._s.reader = this;
    if (stream._s.state === 'closed') r.resolveClosed();
    else if (stream._s.state === 'errored') r.rejectClosed(stream._s.storedError);
  }

  // newClosed gives the reader a fresh pending `closed` Promise.
  function newClosed(r) {
    r.closed = new Promise(function (resolve, reject) {
      r.resolveClosed = function () { resolve(undefined); };
      r.rejectClosed = function (e) { reject(e); };
    });
    r.closed.catch(function () {}); // a rejected `closed` nobody awaits is not an error
  }

  function checkReader(rd) {
    if (!(rd instanceof ReadableStreamDefaultReader)) throw new TypeError('not a ReadableStreamDefaultReader');
  }

  Object.defineProperty(ReadableStreamDefaultReader.prototype, 'closed', {
    get: function () {
      checkReader(this);
      return this._r.closed;
    },
  });

  ReadableStreamDefaultReader.prototype.read = function () {
    if (!(this instanceof ReadableStreamDefaultReader)) return rejected(new TypeError('read: not a ReadableStreamDefaultReader'));
    var r = this._r;
    var stream = r.stream;
    if (stream === undefined) return rejected(new TypeError('read: the reader has been released'));
    var s = stream._s;
    s.disturbed = true;
    if (s.state === 'closed') return resolved({ value: undefined, done: true });
    if (s.state === 'errored') return rejected(s.storedError);
    var c = s.controller;
    var st = c._c;
    if (st.queue.length > 0) {
      var item = st.queue.shift();
      st.queueTotalSize -= item.size;
      if (st.queueTotalSize < 0) st.queueTotalSize = 0;
      if (st.closeRequested && st.queue.length === 0) {
        clearAlgorithms(st);
        streamClose(stream);
      } else {
        callPullIfNeeded(c);
      }
      return resolved({ value: item.chunk, done: false });
    }
    var p = new Promise(function (resolve, reject) {
      r.requests.push({ resolve: resolve, reject: reject });
    });
    callPullIfNeeded(c);
    return p;
  };

  ReadableStreamDefaultReader.prototype.cancel = function (reason) {
    if (!(this instanceof ReadableStreamDefaultReader)) return rejected(new TypeError('cancel: not a ReadableStreamDefaultReader'));
    if (this._r.stream === undefined) return rejected(new TypeError('cancel: the reader has been released'));
    return streamCancel(this._r.stream, reason);
  };

  ReadableStreamDefaultReader.prototype.releaseLock = function () {
    checkReader(this);
    var r = this._r;
    var stream = r.stream;
    if (stream === undefined) return;
    var released = new TypeError('the reader has been released');
    if (stream._s.state === 'readable') {
      r.rejectClosed(released);
    } else {
      newClosed(r);
      r.rejectClosed(released);
    }
    var reqs = r.requests;
    r.requests = [];
    reqs.forEach(function (req) { req.reject(released); });
    stream._s.reader = undefined;
    r.stream = undefined;
  };

  return {
    ReadableStream: ReadableStream,
    ReadableStreamDefaultReader: ReadableStreamDefaultReader,
    ReadableStreamDefaultController: ReadableStreamDefaultController,
    CountQueuingStrategy: CountQueuingStrategy,
    ByteLengthQueuingStrategy: ByteLengthQueuingStrategy,
  };
})
