
(function(){
  var box=document.getElementById('floor'), live=document.getElementById('live');
  if(!window.EventSource){return;}
  var es=new EventSource('/floor/events');
  es.addEventListener('floor',function(e){box.innerHTML=JSON.parse(e.data);live.textContent=live.dataset.on+' '+new Date().toLocaleTimeString('zh-CN');});
  es.onerror=function(){live.textContent=live.dataset.off;};
})();
