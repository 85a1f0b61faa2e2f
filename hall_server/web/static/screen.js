(function(){
  // The hall's public screens (hall_server/web/pages/screens.py): the pushed rendering replaces the
  // body; the clock runs on the server's time; the hall screen announces each new call once.
  var root=document.getElementById('screen');
  if(!root||!window.EventSource){return;}
  var body=document.getElementById('screen-body'), stateLine=document.getElementById('screen-state');
  var timeEl=document.getElementById('clock-time'), dateEl=document.getElementById('clock-date');
  var hall=root.dataset.screen==='hall';
  var offsetMs=Number(root.dataset.nowMs)-Date.now();          // the server's clock minus this TV's
  var tzMs=Number(root.dataset.tzMin||0)*60000, highlightMs=Number(root.dataset.highlightMs||10000);
  var maxAgeMs=Number(root.dataset.maxAgeMs||60000), weekdays=(root.dataset.weekdays||'').split(',');
  var stats=window.__screen={events:0,seq:null,calls:null,heard:{}};   // heard: call id -> Date.now() when first pushed
  function serverNow(){return Date.now()+offsetMs;}
  function pad(n){return (n<10?'0':'')+n;}
  function tick(){
    var d=new Date(serverNow()+tzMs);                           // the hall's local time, read as UTC
    if(timeEl){timeEl.textContent=pad(d.getUTCHours())+':'+pad(d.getUTCMinutes());}
    if(dateEl){dateEl.textContent=(root.dataset.date||'').replace('{y}',d.getUTCFullYear()).replace('{m}',d.getUTCMonth()+1)
      .replace('{d}',d.getUTCDate()).replace('{weekday}',weekdays[(d.getUTCDay()+6)%7]||'');}
  }
  var fade=null;
  function highlight(){
    var el=document.getElementById('newest');
    clearTimeout(fade);
    if(!el||!el.classList.contains('fresh')){return;}
    var left=highlightMs-(serverNow()-Number(el.dataset.atMs));
    fade=setTimeout(function(){el.classList.remove('fresh');},Math.max(0,left));
  }

  // --- announcements: one per call id, strictly one after another, never twice ---
  var STORE='hallscreen.announced', KEEP_MS=3600000, KEEP_N=300, RETRIES=30, RETRY_MS=1000, SLACK_MS=5000;
  var log=window.__announced=[];                 // {id, url, start_ms, end_ms, ok}: what was played, in order
  var seen={}, queue=[], queued={}, playing=false, waitingForGesture=null;
  try{seen=JSON.parse(localStorage.getItem(STORE)||'{}')||{};}catch(e){seen={};}
  function remember(id,atMs){
    seen[id]=atMs;
    var ids=Object.keys(seen).sort(function(a,b){return seen[b]-seen[a];});
    var newest=seen[ids[0]];
    ids.forEach(function(k,i){if(i>=KEEP_N||seen[k]<newest-KEEP_MS){delete seen[k];}});
    try{localStorage.setItem(STORE,JSON.stringify(seen));}catch(e){}
  }
  function onCalls(calls,nowMs){
    calls.slice().sort(function(a,b){return a.id-b.id;}).forEach(function(c){
      var k=String(c.id);
      if(seen[k]!==undefined||queued[k]){return;}
      if(nowMs-c.at_ms>maxAgeMs){return;}      // called long before this screen heard of it
      queued[k]=true;queue.push(c);
    });
    next();
  }
  function next(){
    if(playing||!queue.length){return;}
    var c=queue.shift(), url='/screen/announce/'+c.id+'.wav';
    playing=true;delete queued[String(c.id)];remember(String(c.id),c.at_ms);
    var rec={id:c.id,url:url,start_ms:performance.now(),end_ms:null,ok:false};
    log.push(rec);
    var audio=new Audio(), tries=0, over=false, watchdog=null;
    function done(ok){
      if(over){return;}
      over=true;clearTimeout(watchdog);rec.end_ms=performance.now();rec.ok=ok;playing=false;next();
    }
    function start(){
      var p=audio.play();
      if(p&&p.catch){p.catch(function(err){if(err&&err.name==='NotAllowedError'){blocked(start);}});}
    }
    audio.addEventListener('ended',function(){done(true);});
    audio.addEventListener('error',function(){                 // the server restarts: try again
      if(tries++<RETRIES){setTimeout(function(){audio.src=url;start();},RETRY_MS);}else{done(false);}
    });
    audio.addEventListener('loadedmetadata',function(){        // never stuck on a lost 'ended'
      clearTimeout(watchdog);
      if(isFinite(audio.duration)){watchdog=setTimeout(function(){done(true);},audio.duration*1000+SLACK_MS);}
    });
    audio.src=url;start();
  }
  function blocked(resume){                      // autoplay refused: wait for one touch or key
    if(stateLine){stateLine.textContent=root.dataset.sound||'';}
    if(waitingForGesture){return;}
    waitingForGesture=function(){
      document.removeEventListener('click',waitingForGesture);document.removeEventListener('keydown',waitingForGesture);
      waitingForGesture=null;if(stateLine){stateLine.textContent='';}resume();
    };
    document.addEventListener('click',waitingForGesture);document.addEventListener('keydown',waitingForGesture);
  }

  // --- the stream: a full screen on every change and on every (re)connection ---
  function connect(){
    var es=new EventSource(root.dataset.events);
    es.addEventListener('screen',function(e){
      var m=JSON.parse(e.data);
      offsetMs=m.now_ms-Date.now();
      body.innerHTML=m.html;
      stats.events++;stats.seq=m.seq;stats.calls=m.calls;
      (m.calls||[]).forEach(function(c){if(!(c.id in stats.heard)){stats.heard[c.id]=Date.now();}});
      if(hall){highlight();onCalls(m.calls||[],m.now_ms);}
      tick();
    });
    es.addEventListener('time',function(e){offsetMs=JSON.parse(e.data).now_ms-Date.now();});
    es.onopen=function(){if(stateLine&&!waitingForGesture){stateLine.textContent='';}};
    es.onerror=function(){
      if(stateLine){stateLine.textContent=root.dataset.offline||'';}
      if(es.readyState===2){es.close();setTimeout(connect,2000);}   // refused for good: start again
    };
  }
  tick();setInterval(tick,1000);highlight();connect();
})();
