(function(){
  var box=document.getElementById('ticket');
  if(!box||!window.fetch){return;}
  var live=document.getElementById('live'),delay=parseInt(box.dataset.poll,10)||10,fails=0;
  function put(id,text){var el=document.getElementById(id);if(el&&el.textContent!==text){el.textContent=text;}}
  function later(s){setTimeout(ask,Math.max(2,s)*1000);}
  function ask(){
    fetch(box.dataset.src,{cache:'no-store',credentials:'same-origin'}).then(function(r){
      if(r.status===429){var s=parseInt(r.headers.get('Retry-After'),10)||30;throw {retry:s};}
      if(!r.ok){throw {retry:0};}
      return r.json();
    }).then(function(v){
      fails=0;
      box.className='card tk '+v.state;
      put('headline',v.headline);put('detail',v.detail);put('note',v.note);
      if(live){live.textContent=live.dataset.on+' '+new Date().toLocaleTimeString('zh-CN',{hour12:false});}
      if(v.poll_s>0){later(v.poll_s);}else if(live){live.textContent='';}
    }).catch(function(e){
      fails+=1;
      if(live){live.textContent=live.dataset.off;}
      later(Math.max((e&&e.retry)||0,Math.min(60,delay*Math.pow(2,fails))));
    });
  }
  later(delay);
})();
